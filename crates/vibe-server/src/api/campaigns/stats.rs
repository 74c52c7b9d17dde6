//! `GET …/campaigns/{campaign_id}/stats`: the campaign's counts, rates and
//! hourly series (docs/campaigns.md, "Stats"). Read from the recipient
//! rows, where each first open, click, unsubscribe and bounce is kept
//! (migration 0040), through the primary key's (project, campaign) prefix:
//! it never reads `campaign_events`, whose size grows with every open.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::find;
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// `n / of`, rounded to 4 places; `null` when nothing to divide by.
fn rate(n: i64, of: i64) -> Value {
    if of <= 0 {
        return Value::Null;
    }
    json!(((n as f64 / of as f64) * 10_000.0).round() / 10_000.0)
}

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, campaign_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let c = find(&state, &access, &campaign_id).await?;
    let s = state
        .store
        .campaign_stats(&access.project.id, &c.id)
        .await?;
    let attempted = s.sent + s.failed + s.unknown;
    Ok(Json(json!({
        "campaign_id": c.id,
        "counts": {
            "recipients": s.recipients,
            "skipped": s.skipped,
            "sent": s.sent,
            "failed": s.failed,
            "unknown": s.unknown,
            "delivered": s.delivered,
            "bounced": s.bounced,
            "opened": s.opened,
            "opened_machine": s.opened_machine_first,
            "clicked": s.clicked,
            "unsubscribed": s.unsubscribed,
            "opens": s.opens,
            "machine_opens": s.machine_opens,
            "clicks": s.clicks,
        },
        "rates": {
            "delivery": rate(s.delivered, attempted),
            "open": rate(s.opened, s.delivered),
            "click": rate(s.clicked, s.delivered),
            "click_to_open": rate(s.clicked, s.opened),
            "bounce": rate(s.bounced, attempted),
            "unsubscribe": rate(s.unsubscribed, s.delivered),
        },
        "series": s.series,
    })))
}
