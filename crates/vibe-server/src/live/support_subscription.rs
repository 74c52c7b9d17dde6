//! What a connection's Support page shows, and the section bodies pushed for
//! it (issue 13, item 5). The page sends, on its live-feed socket,
//!
//! ```json
//! {"type":"support.subscribe","query":{"date_range":"week","channel":"whatsapp"}}
//! ```
//!
//! with the query of the `GET …/support/*` routes, validated by the same
//! [`ReportQuery::parse`] (a bad one is answered with an `error` message; the
//! socket stays open). From then on each `support` message of the connection
//! carries `data`: what that section's `GET` answers for this query and the
//! account's role and project as of the connection's last access check
//! ([`body`]: the routes' least role, their audit, their `data()` and
//! envelope). A new subscribe replaces it, `support.unsubscribe` ends it.
//!
//! The bodies are computed by a task of their own ([`compute`]), so a slow
//! report never holds up the socket's other messages; a section that fails
//! is sent with `data: null` (the page refetches it) and logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use vibe_store::Role;

use super::support::Section;
use crate::api::support_analytics::query::ReportQuery;
use crate::api::support_analytics::{
    agent_productivity, automation_impact, business_impact, conversation_effectiveness,
    customer_load, kpi, whatsapp_performance, Report,
};
use crate::audit;
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const SUBSCRIBE: &str = "support.subscribe";
pub const UNSUBSCRIBE: &str = "support.unsubscribe";
/// Longer client messages are refused unread: a query is a few short fields.
const MAX_REQUEST_BYTES: usize = 4096;
/// The least role of the section routes (`support_analytics/routes.rs`).
/// The least role a subscription needs (the sections' own routes ask as much).
pub const SECTIONS_ROLE: Role = Role::Agent;
const BUSINESS_ROLE: Role = Role::Supervisor;

/// One subscription: the query of the page's range and filters.
#[derive(Debug)]
pub struct Subscription {
    /// What `Report::new` reads, as the `GET` routes' query string would.
    pub query: HashMap<String, String>,
    /// The query as the client sent it, echoed in every message for it.
    pub echo: Value,
    /// Whether the business figures were recorded in the audit log yet: the
    /// first business body of a subscription is, like a `GET` of it; later
    /// ones of the same page view are not (one row, not one a second).
    business_audited: AtomicBool,
}

/// What a client message asks.
#[derive(Debug)]
pub enum Request {
    Subscribe(Subscription),
    Unsubscribe,
}

/// A client's text message read as a Support request. `None`: it is not one
/// (no `support.…` type), and is ignored like any other client message.
/// `Err` is for the `error` answer: the request as it was named and why.
pub fn request(
    text: &str,
    role: Role,
    tz_name: &str,
    now_ms: i64,
) -> Option<Result<Request, (Option<String>, ApiError)>> {
    if text.len() > MAX_REQUEST_BYTES {
        return Some(Err((
            None,
            ApiError::bad_request(
                "message_too_large",
                format!("client messages may have at most {MAX_REQUEST_BYTES} bytes"),
            ),
        )));
    }
    let msg: Value = serde_json::from_str(text).ok()?;
    let kind = msg.get("type")?.as_str()?;
    if !kind.starts_with("support.") {
        return None;
    }
    let named = |e: ApiError| (Some(kind.to_owned()), e);
    Some(match kind {
        SUBSCRIBE => subscription(&msg, role, tz_name, now_ms)
            .map(Request::Subscribe)
            .map_err(named),
        UNSUBSCRIBE => Ok(Request::Unsubscribe),
        _ => Err(named(ApiError::field(
            "invalid_field",
            "type",
            format!("`{SUBSCRIBE}` or `{UNSUBSCRIBE}`"),
        ))),
    })
}

fn subscription(msg: &Value, role: Role, tz_name: &str, now_ms: i64) -> ApiResult<Subscription> {
    if role < SECTIONS_ROLE {
        return Err(ApiError::forbidden(format!(
            "support analytics need the {} role in this project",
            SECTIONS_ROLE.as_str()
        )));
    }
    let echo = match msg.get("query") {
        None => Value::Object(Map::new()),
        Some(q @ Value::Object(_)) => q.clone(),
        Some(_) => {
            return Err(ApiError::field(
                "invalid_field",
                "query",
                "an object of the `GET …/support/*` query parameters",
            ))
        }
    };
    let mut query = HashMap::new();
    for (k, v) in echo.as_object().into_iter().flatten() {
        let Some(v) = v.as_str() else {
            return Err(ApiError::field("invalid_field", k, "must be a string"));
        };
        query.insert(k.clone(), v.to_owned());
    }
    ReportQuery::parse(&query, tz_name, now_ms)?;
    Ok(Subscription {
        query,
        echo,
        business_audited: AtomicBool::new(false),
    })
}

/// The socket's answer to a valid request.
pub fn accepted(request: &Request) -> Value {
    match request {
        Request::Subscribe(s) => json!({ "type": "support.subscribed", "query": s.echo }),
        Request::Unsubscribe => json!({ "type": "support.unsubscribed" }),
    }
}

/// The socket's answer to a refused request: the HTTP error body's `error`.
pub fn refused(request: Option<&str>, e: &ApiError) -> Value {
    let mut m = json!({ "type": "error", "error": e.body() });
    if let Some(r) = request {
        m["request"] = json!(r);
    }
    m
}

/// A section's body as `GET …/support/<section>` answers it for `r`.
pub async fn body(
    section: Section,
    r: &Report,
    sub: &Subscription,
    ip: IpAddr,
) -> ApiResult<Value> {
    r.access.require(SECTIONS_ROLE)?;
    let data = match section {
        Section::Kpi => kpi::data(r).await?,
        Section::Conversation => conversation_effectiveness::data(r).await?,
        Section::Whatsapp => whatsapp_performance::data(r).await?,
        Section::Customer => customer_load::data(r).await?,
        Section::Agent => agent_productivity::data(r).await?,
        Section::Automation => automation_impact::data(r).await?,
        Section::Business => {
            r.access.require(BUSINESS_ROLE)?;
            // Recorded before it is answered, as the route does.
            if !sub.business_audited.load(Ordering::SeqCst) {
                audit::record(
                    &r.state,
                    &r.access,
                    "support.business_impact.read",
                    "support/business-impact",
                    json!(sub.query),
                    ip,
                )
                .await?;
                sub.business_audited.store(true, Ordering::SeqCst);
            }
            business_impact::data(r).await?
        }
    };
    Ok(r.envelope(data))
}

/// One computed section, for the subscription of `generation`.
#[derive(Debug)]
pub struct Computed {
    pub generation: u64,
    pub section: Section,
    /// The body, or null when it could not be computed.
    pub data: Value,
}

/// Computes `sections` one after another from one [`Report`] (one `now`,
/// one range) and hands each to `out` when it is done. Stops early when the
/// connection is gone.
pub async fn compute(
    state: AppState,
    access: ProjectAccess,
    sub: Arc<Subscription>,
    generation: u64,
    sections: Vec<Section>,
    ip: IpAddr,
    out: mpsc::Sender<Computed>,
) {
    let project = access.project.id.clone();
    let report = Report::new(&state, access, &sub.query).await;
    for section in sections {
        let data = match &report {
            Ok(r) => body(section, r, &sub, ip).await,
            Err(e) => Err(report_error(e)),
        };
        let data = data.unwrap_or_else(|e| {
            tracing::warn!(error = %e, project = %project, section = section.as_str(), "live support section failed; sent without data");
            Value::Null
        });
        let computed = Computed {
            generation,
            section,
            data,
        };
        if out.send(computed).await.is_err() {
            return;
        }
    }
}

/// The report's error again, for each section it fails (`ApiError` is not `Clone`).
fn report_error(e: &ApiError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("support report: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn read(text: &str, role: Role) -> Option<Result<Request, (Option<String>, ApiError)>> {
        request(text, role, "Europe/Berlin", NOW)
    }

    fn refusal(text: &str, role: Role) -> Value {
        match read(text, role) {
            Some(Err((r, e))) => refused(r.as_deref(), &e),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn a_subscription_takes_the_routes_query() {
        let text =
            r#"{"type":"support.subscribe","query":{"date_range":"week","channel":"whatsapp"}}"#;
        let Some(Ok(Request::Subscribe(s))) = read(text, Role::Agent) else {
            panic!("a subscription")
        };
        assert_eq!(s.query["date_range"], "week");
        assert_eq!(s.echo, json!({"date_range": "week", "channel": "whatsapp"}));
        assert_eq!(
            accepted(&Request::Subscribe(s))["type"],
            "support.subscribed"
        );
        // No query: the routes' defaults (today, no filters).
        let Some(Ok(Request::Subscribe(s))) = read(r#"{"type":"support.subscribe"}"#, Role::Owner)
        else {
            panic!("a subscription")
        };
        assert!(s.query.is_empty());
        assert!(matches!(
            read(r#"{"type":"support.unsubscribe"}"#, Role::Viewer),
            Some(Ok(Request::Unsubscribe))
        ));
    }

    #[test]
    fn a_bad_query_is_refused_as_the_routes_refuse_it() {
        let e = refusal(
            r#"{"type":"support.subscribe","query":{"date_range":"year"}}"#,
            Role::Owner,
        );
        assert_eq!(
            e,
            json!({"type": "error", "request": "support.subscribe", "error": {
                "code": "invalid_field", "field": "date_range", "message": "`today`, `week` or `month`"}})
        );
        let e = refusal(
            r#"{"type":"support.subscribe","query":{"start_date":"2026-01-02"}}"#,
            Role::Owner,
        );
        assert_eq!(e["error"]["field"], "end_date");
        let e = refusal(
            r#"{"type":"support.subscribe","query":{"agent_id":7}}"#,
            Role::Owner,
        );
        assert_eq!(e["error"]["field"], "agent_id");
        let e = refusal(r#"{"type":"support.subscribe","query":[]}"#, Role::Owner);
        assert_eq!(e["error"]["field"], "query");
        // Viewers: the routes answer 403.
        let e = refusal(r#"{"type":"support.subscribe"}"#, Role::Viewer);
        assert_eq!(e["error"]["code"], "forbidden");
        let e = refusal(r#"{"type":"support.nope"}"#, Role::Owner);
        assert_eq!(e["error"]["field"], "type");
        let long = format!(
            r#"{{"type":"support.subscribe","x":"{}"}}"#,
            "a".repeat(5000)
        );
        let e = refusal(&long, Role::Owner);
        assert_eq!(e["error"]["code"], "message_too_large");
        assert!(e.get("request").is_none());
    }

    #[test]
    fn other_client_messages_are_not_support_requests() {
        assert!(read("hello", Role::Owner).is_none());
        assert!(read(r#"{"type":"ping"}"#, Role::Owner).is_none());
        assert!(read(r#"{"query":{}}"#, Role::Owner).is_none());
    }
}
