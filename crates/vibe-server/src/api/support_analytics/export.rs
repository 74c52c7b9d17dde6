//! CSV exports (supervisor and above): `GET …/support/export/{section}.csv`
//! for each section (its response flattened to `field,value` lines, the
//! same figures as the JSON) and `GET …/support/export/conversations.csv`,
//! one row per conversation created in the range, streamed page by page on
//! a keyset cursor (constant memory however many). Every cell goes through
//! `crate::csv`, which neutralises spreadsheet formulas.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::Value;
use vibe_store::support_analytics::export::ExportConversation;

use super::{iso, Report};
use crate::auth::ProjectAccess;
use crate::csv;
use crate::error::ApiResult;
use crate::state::AppState;

/// Conversations read per page.
const PAGE: i64 = 500;

fn csv_response(body: Body, what: &str, r: &Report) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                csv::attachment(what, &r.query.today.to_string()),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `field,value` lines of a JSON document: nested keys joined by `.`,
/// array items by their index.
pub fn flatten(prefix: &str, v: &Value, out: &mut String) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        Value::Null => out.push_str(&csv::line([prefix, ""])),
        Value::String(s) => out.push_str(&csv::line([prefix, s.as_str()])),
        other => out.push_str(&csv::line([prefix.to_owned(), other.to_string()])),
    }
}

macro_rules! section_csv {
    ($name:ident, $module:ident, $what:literal) => {
        pub async fn $name(
            State(state): State<AppState>,
            access: ProjectAccess,
            Query(q): Query<HashMap<String, String>>,
        ) -> ApiResult<Response> {
            let r = Report::new(&state, access, &q).await?;
            let data = r.envelope(super::$module::data(&r).await?);
            let mut out = csv::line(["field", "value"]);
            flatten("", &data, &mut out);
            let what = format!(
                "support-{}-{}-to-{}",
                $what, r.query.period.first_day, r.query.period.last_day
            );
            Ok(csv_response(Body::from(out), &what, &r))
        }
    };
}

section_csv!(kpi_csv, kpi, "kpi");
section_csv!(
    conversation_effectiveness_csv,
    conversation_effectiveness,
    "conversation-effectiveness"
);
section_csv!(
    whatsapp_performance_csv,
    whatsapp_performance,
    "whatsapp-performance"
);
section_csv!(customer_load_csv, customer_load, "customer-load");
section_csv!(
    agent_productivity_csv,
    agent_productivity,
    "agent-productivity"
);
section_csv!(
    automation_impact_csv,
    automation_impact,
    "automation-impact"
);
section_csv!(business_impact_csv, business_impact, "business-impact");

pub const CONVERSATION_COLUMNS: [&str; 15] = [
    "id",
    "contact",
    "channel",
    "status",
    "priority",
    "agent",
    "team",
    "created",
    "first_response_s",
    "resolution_s",
    "sla_status",
    "csat",
    "bot",
    "escalated",
    "intent",
];

/// What every page needs: names of agents and teams, which priorities a
/// policy covers.
struct Names {
    agents: HashMap<String, String>,
    teams: HashMap<String, String>,
    policies: Vec<String>,
}

/// Chatwoot's SLA status of one conversation from its SLA facts (in time
/// order): resolved/closed → the last verdict (`hit` | `missed`), else
/// `missed` when a target was exceeded; open → `active_with_misses` when a
/// target was exceeded in it, else `active`; "" when no policy applies.
pub fn sla_status(
    c: &ExportConversation,
    facts: &[(String, Option<String>)],
    has_policy: bool,
) -> &'static str {
    let done = matches!(c.status.as_str(), "resolved" | "closed");
    let verdict = facts
        .iter()
        .rev()
        .find(|(name, _)| name == "sla")
        .and_then(|(_, l)| l.as_deref());
    let missed = facts.iter().any(|(name, _)| name == "sla_miss");
    match (done, verdict) {
        (true, Some("hit")) => "hit",
        (true, Some(_)) => "missed",
        (true, None) if missed => "missed",
        (false, _) if missed => "active_with_misses",
        (false, _) if has_policy => "active",
        _ => "",
    }
}

fn row(c: &ExportConversation, names: &Names, facts: &[(String, Option<String>)]) -> String {
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let flag = |v: i64| if v != 0 { "true" } else { "false" };
    let contact = c
        .contact_name
        .clone()
        .or_else(|| c.contact_email.clone())
        .unwrap_or_else(|| c.site_user_id.clone());
    let agent = c
        .assignee_account_id
        .as_ref()
        .map(|a| names.agents.get(a).cloned().unwrap_or_else(|| a.clone()))
        .unwrap_or_default();
    let team = c
        .team_id
        .as_ref()
        .map(|t| names.teams.get(t).cloned().unwrap_or_else(|| t.clone()))
        .unwrap_or_default();
    let bot = if c.bot_only != 0 {
        "bot_only"
    } else {
        flag(c.handled_by_bot)
    };
    csv::line([
        c.id.clone(),
        contact,
        c.channel.clone(),
        c.status.clone(),
        c.priority.clone(),
        agent,
        team,
        iso(c.created_at),
        opt(c.first_response_s),
        opt(c.resolution_s),
        sla_status(c, facts, names.policies.contains(&c.priority)).to_owned(),
        opt(c.csat),
        bot.to_owned(),
        flag(c.escalated_to_human).to_owned(),
        c.intent.clone().unwrap_or_default(),
    ])
}

struct Cursor {
    r: Arc<Report>,
    names: Arc<Names>,
    after: Option<(i64, String)>,
}

async fn page(step: Cursor) -> Result<(String, Option<Cursor>), vibe_store::StoreError> {
    let r = &step.r;
    let p = &r.query.period;
    let store = &r.state.store;
    let items = if r.caller.blocked {
        Vec::new()
    } else {
        store
            .support_export_page(
                r.project(),
                &r.caller.scope,
                &r.query.filter,
                p.from_ms,
                p.to_ms,
                step.after.as_ref(),
                PAGE,
            )
            .await?
    };
    let ids: Vec<&str> = items.iter().map(|c| c.id.as_str()).collect();
    let mut facts: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
    for (cid, name, label, _) in store.support_sla_facts(r.project(), &ids).await? {
        facts.entry(cid).or_default().push((name, label));
    }
    let mut chunk = String::new();
    for c in &items {
        let f = facts.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        chunk.push_str(&row(c, &step.names, f));
    }
    let next = match items.last() {
        Some(last) if items.len() as i64 == PAGE => Some(Cursor {
            r: step.r.clone(),
            names: step.names.clone(),
            after: Some((last.created_at, last.id.clone())),
        }),
        _ => None,
    };
    Ok((chunk, next))
}

pub async fn conversations_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let r = Report::new(&state, access, &q).await?;
    let project = r.project().to_owned();
    let names = Names {
        agents: state
            .store
            .list_members(&project)
            .await?
            .into_iter()
            .map(|m| (m.account_id, m.email))
            .collect(),
        teams: state
            .store
            .teams(&project)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect(),
        policies: state
            .store
            .sla_policies(&project)
            .await?
            .into_iter()
            .map(|p| p.priority)
            .collect(),
    };
    let what = format!(
        "support-conversations-{}-to-{}",
        r.query.period.first_day, r.query.period.last_day
    );
    let head = csv::line(CONVERSATION_COLUMNS);
    let response_head = csv_response(Body::empty(), &what, &r);
    let first = Cursor {
        r: Arc::new(r),
        names: Arc::new(names),
        after: None,
    };
    // Each step reads one page after the previous page's last row.
    let pages = stream::unfold(Some(first), |step| async move {
        match page(step?).await {
            Ok((chunk, next)) => Some((Ok::<Bytes, std::io::Error>(Bytes::from(chunk)), next)),
            Err(e) => {
                // Headers are gone already; cut the download short so it is visibly incomplete.
                tracing::error!(error = %e, "support conversations export failed");
                Some((Err(std::io::Error::other("export failed")), None))
            }
        }
    });
    let body = stream::iter([Ok(Bytes::from(head))]);
    let body = Body::from_stream(futures_util::StreamExt::chain(body, pages));
    let (parts, _) = response_head.into_parts();
    Ok(Response::from_parts(parts, body))
}
