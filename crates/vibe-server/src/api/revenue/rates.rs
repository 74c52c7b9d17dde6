//! `GET/PUT /projects/{id}/exchange-rates`: the rates payments are converted
//! with. A row is `{day, currency, rate}`: `rate` units of `currency` per 1
//! unit of the body's `base` (default `EUR`, as the ECB publishes them).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::day::parse_day;

use crate::api::ApiJson;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most rows one `PUT` may carry (the ECB's whole history is ~200k: use
/// `vibe rates import` for that).
pub const MAX_ROWS: usize = 10_000;

/// `GET …/exchange-rates?from=&to=`: stored rows of those days (default all),
/// newest first, at most 10,000.
pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let day = |field: &str, default: &str| -> ApiResult<String> {
        match q.get(field) {
            None => Ok(default.to_owned()),
            Some(v) => parse_day(v).map(|d| d.to_string()).ok_or_else(|| {
                ApiError::field("invalid_field", field, "must be a date like 2026-01-31")
            }),
        }
    };
    let (from, to) = (day("from", "0000-00-00")?, day("to", "9999-99-99")?);
    let rates = state
        .store
        .exchange_rates(&access.project.id, &from, &to)
        .await?;
    let currency = state.store.revenue_currency(&access.project.id).await?;
    Ok(Json(json!({ "currency": currency, "rates": rates })))
}

/// `PUT …/exchange-rates` `{base?, rates: [{day, currency, rate}]}` (admin):
/// stores the rows, replacing those of the same base, currency and day; others stay.
pub async fn put(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let (base, rows) = parse_body(&body)?;
    let stored = state
        .store
        .put_exchange_rates(&access.project.id, &base, &rows)
        .await?;
    audit::record(
        &state,
        &access,
        "exchange_rates.put",
        "exchange-rates",
        body,
        ip,
    )
    .await?;
    Ok(Json(json!({ "base": base, "stored": stored })))
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::field("invalid_field", field, message)
}

type Rows = Vec<(String, String, f64)>;

pub fn parse_body(body: &Value) -> ApiResult<(String, Rows)> {
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("body", "must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !matches!(k.as_str(), "base" | "rates")) {
        return Err(invalid(k, "unknown field"));
    }
    let base = match obj.get("base") {
        None | Some(Value::Null) => "EUR".to_owned(),
        Some(Value::String(s)) => vibe_core::reserved::currency(s, "base")?,
        Some(_) => return Err(invalid("base", "must be a currency code like EUR")),
    };
    let list = match obj.get("rates") {
        None | Some(Value::Null) => {
            return Err(ApiError::field(
                "missing_field",
                "rates",
                "`rates` is required",
            ))
        }
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(invalid(
                "rates",
                "must be an array of {day, currency, rate}",
            ))
        }
    };
    if list.len() > MAX_ROWS {
        return Err(ApiError::field(
            "too_large",
            "rates",
            format!("at most {MAX_ROWS} rows per request"),
        ));
    }
    let mut rows = Vec::with_capacity(list.len());
    for (i, row) in list.iter().enumerate() {
        let f = |k: &str| format!("rates[{i}].{k}");
        let row = row
            .as_object()
            .ok_or_else(|| invalid(&format!("rates[{i}]"), "must be an object"))?;
        let day = row
            .get("day")
            .and_then(Value::as_str)
            .and_then(parse_day)
            .ok_or_else(|| invalid(&f("day"), "must be a date like 2026-01-31"))?;
        let currency = match row.get("currency") {
            Some(Value::String(s)) => vibe_core::reserved::currency(s, &f("currency"))?,
            _ => return Err(invalid(&f("currency"), "must be a currency code like USD")),
        };
        if currency == base {
            return Err(invalid(
                &f("currency"),
                "must differ from `base` (its rate is 1)",
            ));
        }
        let rate = row
            .get("rate")
            .and_then(Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0)
            .ok_or_else(|| {
                invalid(
                    &f("rate"),
                    "must be a positive number (units of `currency` per 1 `base`)",
                )
            })?;
        rows.push((day.to_string(), currency, rate));
    }
    Ok((base, rows))
}
