//! `GET …/support/conversation-effectiveness`: conversations and reply time
//! per agent, reply time over the range (hourly up to two days, daily
//! beyond), SLA compliance and resolved vs still open.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::support_analytics::GroupBy;

use super::definitions as d;
use super::{by_key, iso, Report};
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
    let p = &r.query.period;
    let per_agent = r.rows(p, GroupBy::Agent).await?;
    let agents = r.agents(&per_agent).await?;
    let per_agent = by_key(per_agent);
    let empty = Default::default();
    let mut rows: Vec<Value> = agents
        .iter()
        .map(|(id, name)| {
            let c = per_agent.get(id).unwrap_or(&empty);
            json!({
                "agent_id": id,
                "agent_name": name,
                "count": d::agent_conversations(c),
                "avg_response_time": d::avg_response_s(c),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b["count"]
            .as_i64()
            .cmp(&a["count"].as_i64())
            .then(a["agent_name"].as_str().cmp(&b["agent_name"].as_str()))
    });

    let group = if p.days() <= 2 {
        GroupBy::Hour
    } else {
        GroupBy::Day
    };
    let over_time: Vec<Value> = r
        .rows(p, group)
        .await?
        .into_iter()
        .filter(|row| row.counters.get("reply") > 0)
        .map(|row| {
            let at: i64 = row.key.parse().unwrap_or_default();
            json!({ "timestamp": iso(at), "avg_seconds": d::avg_response_s(&row.counters) })
        })
        .collect();

    let total = r.total(p).await?;
    let open: i64 = r.open_now().await?.iter().map(|(_, _, n)| n).sum();
    let resolved = total.get("resolved");
    Ok(json!({
        "conversations_per_agent": rows,
        "avg_response_time_over_time": over_time,
        "sla_compliance": d::sla_compliance(&total),
        "resolved_vs_open": {
            "resolved": resolved,
            "open": open,
            "percentage": d::pct(resolved, resolved + open),
        },
    }))
}
