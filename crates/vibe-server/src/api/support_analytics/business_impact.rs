//! `GET …/support/business-impact` (supervisor and above): leads, tickets
//! resolved in the last day/week/month, campaign conversion (empty until
//! the Campaigns issue lands), the repeat-customer rate and the cost per
//! conversation with the bots' savings.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::definitions::{self as d, trend};
use super::query::Period;
use super::Report;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let r = Report::new(&state, access, &q).await?;
    Ok(Json(r.envelope(data(&r).await?)))
}

pub async fn data(r: &Report) -> ApiResult<Value> {
    let cur = r.total(&r.query.period).await?;
    let before = r.total(&r.query.previous).await?;
    let settings = r.settings().await?;
    let mut resolved = Vec::new();
    for days in [1, 7, 30] {
        let p = Period::last_days(&r.query.tz, r.query.today, days);
        resolved.push(r.total(&p).await?.get("resolved"));
    }
    let mut leads = trend(cur.get("lead") as f64, before.get("lead") as f64);
    leads["total"] = leads["value"].clone();
    let rate = d::repeat_customer_rate(&cur);
    let repeat = trend(rate, d::repeat_customer_rate(&before));
    let hourly = settings.hourly_agent_cost;
    Ok(json!({
        "leads_generated": leads,
        "tickets_resolved": { "today": resolved[0], "week": resolved[1], "month": resolved[2] },
        "campaign_conversion": [],
        "repeat_customer_rate": {
            "rate": rate,
            "trend": repeat["trend"],
            "change": repeat["change"],
        },
        "cost_per_conversation": {
            "amount": d::cost_per_conversation(&cur, hourly),
            "savings": d::cost_of(d::time_saved_s(&cur), hourly),
            "currency": settings.currency,
        },
    }))
}
