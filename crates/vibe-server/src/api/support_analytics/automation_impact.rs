//! `GET …/support/automation-impact`: bot-only vs human resolutions,
//! auto-reply success, drop-off, top intents, the time bots saved and what
//! it would have cost, and escalations (docs/metrics.md).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::definitions as d;
use super::Report;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// Intents listed, the most frequent first.
pub const TOP_INTENTS: usize = 10;

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let r = Report::new(&state, access, &q).await?;
    Ok(Json(r.envelope(data(&r).await?)))
}

pub async fn data(r: &Report) -> ApiResult<Value> {
    let c = r.total(&r.query.period).await?;
    let settings = r.settings().await?;
    let bot = c.get("resolved.flag");
    let human = c.get("resolved") - bot;
    let (auto_total, auto_ok) = d::auto_reply_success(&c);
    let created = c.get("conversation_created");
    let mut intents: Vec<(String, i64, i64)> =
        c.0.iter()
            .filter_map(|(k, n)| {
                let intent = k.strip_prefix("resolved:")?;
                let bot = c.get(&format!("resolved.flag:{intent}"));
                Some((intent.to_owned(), *n, bot))
            })
            .filter(|(intent, _, _)| !intent.contains('.'))
            .collect();
    intents.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<Value> = intents
        .into_iter()
        .take(TOP_INTENTS)
        .map(|(intent, n, bot)| json!({ "intent": intent, "count": n, "success_rate": d::pct(bot, n) }))
        .collect();
    let saved = d::time_saved_s(&c);
    Ok(json!({
        "chatbot_vs_human": { "chatbot": bot, "human": human, "percentage": d::pct(bot, bot + human) },
        "auto_reply_success": {
            "total": auto_total,
            "successful": auto_ok,
            "percentage": d::pct(auto_ok, auto_total),
        },
        "drop_off_rate": {
            "total": created,
            "dropped": c.get("dropped"),
            "percentage": d::pct(c.get("dropped"), created),
        },
        "top_intents": top,
        "time_saved": {
            "hours": d::hours(saved),
            "estimated_cost": d::cost_of(saved, settings.hourly_agent_cost),
            "currency": settings.currency,
        },
        "escalation_rate": {
            "total": created,
            "escalated": c.get("escalated"),
            "percentage": d::pct(c.get("escalated"), created),
        },
    }))
}
