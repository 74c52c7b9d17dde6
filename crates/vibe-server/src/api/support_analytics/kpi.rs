//! `GET …/support/kpi`: the KPI strip. Period figures (response time,
//! delivery rate, messages) against the previous period; the open
//! conversations are counted now and compared with the count at the start
//! of the range (docs/metrics.md, "Support analytics").

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::definitions::{self as d, trend};
use super::Report;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn kpi(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let r = Report::new(&state, access, &q).await?;
    Ok(Json(r.envelope(data(&r).await?)))
}

/// The strictest first-response target of the project's SLA policies, else
/// [`d::DEFAULT_RESPONSE_TARGET_S`].
pub async fn response_target_s(r: &Report) -> ApiResult<i64> {
    let policies = r.state.store.sla_policies(r.project()).await?;
    Ok(policies
        .iter()
        .map(|p| p.first_response_target_s)
        .filter(|t| *t > 0)
        .min()
        .unwrap_or(d::DEFAULT_RESPONSE_TARGET_S))
}

pub async fn data(r: &Report) -> ApiResult<Value> {
    let (p, prev) = (&r.query.period, &r.query.previous);
    let cur = r.total(p).await?;
    let before = r.total(prev).await?;
    let wa = r.total_on(p, "whatsapp").await?;
    let wa_before = r.total_on(prev, "whatsapp").await?;

    // Now, and at the start of the range: now − created + resolved −
    // reopened since then (pending moves are no facts; see docs).
    let open = r.open_now().await?;
    let not_done: i64 = open.iter().map(|(_, _, n)| n).sum();
    let active: i64 = open
        .iter()
        .filter(|(s, _, _)| s == "open")
        .map(|(_, _, n)| n)
        .sum();
    // Since the range start: the current figures themselves when the range
    // reaches now (today, this week, this month).
    let since = if p.to_ms >= r.now {
        cur.clone()
    } else {
        super::sum(
            r.rows_between(
                p.from_ms,
                r.now,
                vibe_store::support_analytics::GroupBy::Total,
                &r.query.filter,
            )
            .await?,
        )
    };
    let delta = since.get("conversation_created") - since.get("resolved") + since.get("reopened");
    let at_start = |now: i64| (now - delta).max(0) as f64;
    let priority = |name: &str| -> i64 {
        open.iter()
            .filter(|(_, pr, _)| pr == name)
            .map(|(_, _, n)| n)
            .sum()
    };

    let avg_now = d::avg_response_s(&cur);
    let mut response = trend(avg_now as f64, d::avg_response_s(&before) as f64);
    response["sla_status"] = json!(d::sla_status(avg_now, response_target_s(r).await?));
    let mut tickets = trend(not_done as f64, at_start(not_done));
    tickets["by_priority"] = json!({
        "urgent": priority("urgent"),
        "high": priority("high"),
        "medium": priority("medium"),
        "low": priority("low"),
    });
    Ok(json!({
        "active_conversations": trend(active as f64, at_start(active)),
        "avg_response_time": response,
        "whatsapp_delivery_rate": trend(d::delivery_rate(&wa), d::delivery_rate(&wa_before)),
        "open_tickets": tickets,
        "messages_today": trend(cur.get("message") as f64, before.get("message") as f64),
    }))
}
