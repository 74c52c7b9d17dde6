//! `GET …/support/whatsapp-performance`: the WhatsApp delivery funnel of
//! the range, broadcast success, the latest failed messages, the WhatsApp
//! channels as sessions and the outbound queue now.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::inbox::broadcasts::contact_phone;
use vibe_store::support_analytics::ReportScope;

use super::definitions as d;
use super::{iso, Report};
use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// Failed messages listed.
pub const FAILED_LIMIT: i64 = 20;
/// Broadcasts of the range looked at (the newest; older ones of the same
/// range fall out of the figure).
pub const BROADCAST_LIMIT: i64 = 100;
/// The window of the queue's processing rate.
pub const RATE_WINDOW_MS: i64 = 10 * 60_000;

pub async fn get(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let r = Report::new(&state, access, &q).await?;
    Ok(Json(r.envelope(data(&r).await?)))
}

pub async fn data(r: &Report) -> ApiResult<Value> {
    let p = &r.query.period;
    let wa = r.total_on(p, "whatsapp").await?;
    let other_channel = r
        .query
        .filter
        .channel
        .as_deref()
        .is_some_and(|c| c != "whatsapp");
    let store = &r.state.store;

    // Broadcasts created in the range, by whoever the scope admits.
    let (mut total, mut ok, mut failed) = (0, 0, 0);
    if !other_channel && !r.caller.blocked && r.query.filter.team_id.is_none() {
        let created = store
            .broadcasts_created_between(r.project(), p.from_ms, p.to_ms, BROADCAST_LIMIT)
            .await?;
        for (b, s) in created {
            let by = b.created_by_account_id.as_deref().unwrap_or("");
            let admitted = match &r.caller.scope {
                ReportScope::All => true,
                _ => r.caller.sees_agent(by),
            } && r.query.filter.account_id.as_deref().is_none_or(|a| a == by);
            if !admitted {
                continue;
            }
            total += s.queued + s.sent + s.delivered + s.read + s.failed;
            ok += s.sent + s.delivered + s.read;
            failed += s.failed;
        }
    }

    let failures = if other_channel || r.caller.blocked {
        Vec::new()
    } else {
        store
            .support_latest_failures(
                r.project(),
                &r.caller.scope,
                &r.query.filter,
                "whatsapp",
                p.from_ms,
                p.to_ms,
                FAILED_LIMIT,
            )
            .await?
    };
    let failed_messages: Vec<Value> = failures
        .iter()
        .map(|f| {
            json!({
                "id": f.message_id,
                "conversation_id": f.conversation_id,
                "recipient": contact_phone(&f.site_user_id, &f.traits)
                    .unwrap_or_else(|| f.site_user_id.clone()),
                "error": f.failed_reason.clone().unwrap_or_default(),
                "timestamp": iso(f.failed_at),
            })
        })
        .collect();

    let mut sessions = Vec::new();
    let last = store
        .support_last_webhook_at(r.project(), "whatsapp", r.now - d::SESSION_WINDOW_MS)
        .await?;
    for ch in store.list_channels(r.project()).await? {
        let config: Value = serde_json::from_str(&ch.config).unwrap_or(Value::Null);
        let phone = match ch.kind.as_str() {
            "whatsapp" => config["phone_number_id"].as_str().unwrap_or("").to_owned(),
            "twilio" => match config["from"]
                .as_str()
                .and_then(|f| f.strip_prefix("whatsapp:"))
            {
                Some(n) => n.to_owned(),
                None => continue,
            },
            _ => continue,
        };
        sessions.push(json!({
            "session_id": ch.kind,
            "phone_number": phone,
            "status": d::session_status(ch.enabled, last),
            "last_seen": last.map(iso),
        }));
    }

    let (depth, sent) = store
        .support_queue_now(r.project(), "whatsapp", r.now - RATE_WINDOW_MS)
        .await?;
    Ok(json!({
        "message_funnel": {
            "sent": wa.get("sent"),
            "delivered": wa.get("delivered"),
            "read": wa.get("read"),
            "failed": wa.get("failed"),
        },
        "broadcast_success_rate": {
            "total": total,
            "successful": ok,
            "failed": failed,
            "percentage": d::pct(ok, total),
        },
        "failed_messages": failed_messages,
        "active_sessions": sessions,
        "queue_metrics": {
            "depth": depth,
            "processing_rate": d::round1(sent as f64 * 60_000.0 / RATE_WINDOW_MS as f64),
        },
    }))
}
