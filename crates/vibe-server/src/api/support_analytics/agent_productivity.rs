//! `GET …/support/agent-productivity`: per agent the conversations handled,
//! resolution rate, idle vs active time online, average handling time,
//! their status now and for how long, and the workload against the
//! configured capacity (docs/metrics.md, "Support analytics").

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::support_analytics::GroupBy;

use super::definitions as d;
use super::{by_key, Report};
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
    let rows = r.rows(p, GroupBy::Agent).await?;
    let agents = r.agents(&rows).await?;
    let rows = by_key(rows);
    let capacity = r.settings().await?.agent_capacity;
    let statuses: HashMap<String, _> = r
        .state
        .store
        .agent_statuses(r.project())
        .await?
        .into_iter()
        .map(|l| (l.account_id.clone(), l))
        .collect();
    let range_s = r.elapsed_s(p);
    let empty = Default::default();
    let (mut balanced, mut overloaded, mut underutilized) = (0, 0, 0);
    let metrics: Vec<Value> = agents
        .iter()
        .map(|(id, name)| {
            let c = rows.get(id).unwrap_or(&empty);
            let online = c.get("agent.online_s");
            let busy = c.get("agent.busy_s");
            let (status, since) = match statuses.get(id) {
                Some(l) => (l.status.as_str(), ((r.now - l.started_at) / 1000).max(0)),
                None => ("offline", 0),
            };
            let load = d::workload(c, range_s, capacity);
            match load {
                "overloaded" => overloaded += 1,
                "underutilized" => underutilized += 1,
                _ => balanced += 1,
            }
            json!({
                "agent_id": id,
                "agent_name": name,
                "chats_handled": c.get("handled"),
                "resolution_rate": d::pct(c.get("resolved"), c.get("handled")),
                "idle_time": (online - busy).max(0),
                "active_time": busy,
                "avg_handling_time": d::avg_handling_s(c),
                "status": status,
                "status_duration": since,
                "workload": load,
            })
        })
        .collect();
    Ok(json!({
        "agent_metrics": metrics,
        "workload_distribution": {
            "balanced": balanced,
            "overloaded": overloaded,
            "underutilized": underutilized,
        },
        "agent_capacity": capacity,
    }))
}
