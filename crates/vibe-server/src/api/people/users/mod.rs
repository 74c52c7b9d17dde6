//! `/api/v1/projects/{id}/users` (the people list by segment) and
//! `/users/{uid}` (a person's profile, with the CRM fields of `api/crm`).

pub mod sessions;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use vibe_store::crm::Contact;
use vibe_store::segments::{stored_criteria, Node};
use vibe_store::users::{Segment, UserCursor, UserQuery, UserSort};
use vibe_store::{ClientInfo, SiteUser};

use super::person::Person;
use crate::api::query::int_in;
use crate::api::{ai_usage, crm};
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult, OrNotFound};
use crate::state::AppState;

/// A person as listed: identity, promoted traits, activity and device.
#[derive(Serialize)]
pub struct UserRow {
    pub id: String,
    #[serde(flatten)]
    pub person: Person,
    pub plan: Option<String>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub total_events: i64,
    #[serde(flatten)]
    pub client: ClientInfo,
}

impl From<SiteUser> for UserRow {
    fn from(u: SiteUser) -> Self {
        Self {
            person: Person::new(u.identity, &u.traits),
            id: u.id,
            plan: u.plan,
            first_seen: u.first_seen,
            last_seen: u.last_seen,
            total_events: u.event_count,
            client: u.client,
        }
    }
}

/// Parses `segment`, `q`, `sort`, `cursor` and `limit` into a query.
/// `segment` is a built-in segment's name or the id of one of the project's
/// custom segments (`api/segments`), whose criteria then filter the list.
pub async fn user_query(
    state: &AppState,
    access: &ProjectAccess,
    q: &HashMap<String, String>,
    now_ms: i64,
    default_limit: i64,
) -> ApiResult<UserQuery> {
    let (segment, criteria) = match q.get("segment") {
        None => (Segment::All, None),
        Some(s) => match Segment::parse(s) {
            Some(builtin) => (builtin, None),
            None => (Segment::All, Some(custom_segment(state, access, s).await?)),
        },
    };
    let sort = match q.get("sort") {
        None => UserSort::LastSeen,
        Some(s) => UserSort::parse(s).ok_or_else(|| {
            ApiError::field("invalid_field", "sort", "must be last_seen or first_seen")
        })?,
    };
    let cursor = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(UserCursor::decode(c).ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                "cursor",
                "is not a cursor from a previous page",
            )
        })?),
    };
    let limit = int_in(q, "limit", default_limit, 1..=200)?;
    let search = q
        .get("q")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(s) = &search {
        crate::domain::at_most("q", s.chars().count(), 200)?;
    }
    let tag = match q.get("tag").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(crm::tags::normalize_tag("tag", t)?),
    };
    let priority = crm::contact::priority_filter(q.get("priority"))?;
    Ok(UserQuery {
        project_id: access.project.id.clone(),
        segment,
        search,
        tag,
        priority,
        criteria,
        sort,
        cursor,
        limit,
        now_ms,
    })
}

/// The criteria of the project's custom segment `sid`: an unknown id (or
/// another project's) is a 400 naming `segment`.
async fn custom_segment(
    state: &AppState,
    access: &ProjectAccess,
    sid: &str,
) -> ApiResult<Arc<Node>> {
    let Some(segment) = state.store.get_segment(&access.project.id, sid).await? else {
        return Err(ApiError::field(
            "invalid_field",
            "segment",
            "must be one of all, active, inactive, premium, trial, churned or the id of a custom segment of this project",
        ));
    };
    Ok(Arc::new(stored_criteria(&segment.criteria)?))
}

/// What the answer's `segment` says: the built-in's name or the custom id.
pub fn segment_shown(query: &UserQuery, q: &HashMap<String, String>) -> Value {
    match (&query.criteria, q.get("segment")) {
        (Some(_), Some(sid)) => json!(sid),
        _ => json!(query.segment),
    }
}

pub async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mut query = user_query(&state, &access, &q, state.clock.now_ms(), 50).await?;
    let page_size = query.limit;
    // One extra row tells whether another page follows.
    query.limit += 1;
    let mut users = state.store.list_users(&query).await?;
    let more = users.len() as i64 > page_size;
    users.truncate(page_size as usize);
    let next_cursor = users
        .last()
        .filter(|_| more)
        .map(|u| query.cursor_after(u).encode());
    let project = access.project.id.as_str();
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let mut contacts = state.store.listed_contacts(project, &ids).await?;
    let currency = state.store.revenue_currency(project).await?;
    let mut spent = state.store.listed_spent(project, &ids, &currency).await?;
    let sessions = state.store.listed_session_counts(project, &ids).await?;
    let users: Vec<ListedUser> = users
        .into_iter()
        .map(|u| {
            let contact = contacts.remove(&u.id).unwrap_or_default();
            let spent = spent.remove(&u.id).unwrap_or_default();
            ListedUser {
                total_sessions: sessions.get(&u.id).copied().unwrap_or(0),
                row: UserRow::from(u),
                tags: contact.tags,
                priority: contact.priority,
                total_spent: spent.total_spent,
                unconverted_spent: spent.unconverted,
            }
        })
        .collect();
    Ok(Json(json!({
        "users": users,
        "next_cursor": next_cursor,
        "segment": segment_shown(&query, &q),
        "currency": currency,
    })))
}

/// A row of the people list: the person as listed plus the CRM fields and
/// revenue the list shows, read for the page's people only (by the
/// `(project_id, site_user_id)` keys of `contact_tags`, `contacts`,
/// `payments_person` and `site_sessions_person`), so they cost the same whatever the filters.
#[derive(Serialize)]
struct ListedUser {
    #[serde(flatten)]
    row: UserRow,
    total_sessions: i64,
    tags: Vec<String>,
    priority: Option<String>,
    /// Succeeded payments in the answer's `currency` (minor units), as on
    /// the profile.
    total_spent: i64,
    unconverted_spent: Vec<vibe_store::revenue::CurrencyAmount>,
}

/// The person `{uid}` names in the caller's project, with the caller's
/// access: what every `/users/{uid}…` route starts from. A person not tracked
/// in that project is 404, after the role check (so callers below the route's
/// role learn nothing of who exists).
pub struct ProjectUser {
    pub access: ProjectAccess,
    pub user: SiteUser,
}

impl FromRequestParts<AppState> for ProjectUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let access = ProjectAccess::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("user"))?;
        let uid = params.get("uid").or_not_found("user")?;
        let user = state
            .store
            .find_user(&access.project.id, uid)
            .await?
            .or_not_found("user")?;
        Ok(Self { access, user })
    }
}

pub async fn profile(
    State(state): State<AppState>,
    ProjectUser { access, user }: ProjectUser,
) -> ApiResult<Json<Value>> {
    let contact = state.store.contact(&access.project.id, &user.id).await?;
    profile_body(&state, &access, user, contact).await.map(Json)
}

/// A profile: the person as listed, their sessions, CRM fields, feature and
/// token usage, and revenue.
pub(crate) async fn profile_body(
    state: &AppState,
    access: &ProjectAccess,
    user: SiteUser,
    contact: Contact,
) -> ApiResult<Value> {
    let sessions = state
        .store
        .user_session_totals(&access.project.id, &user.id)
        .await?;
    let (project, person) = (access.project.id.as_str(), user.id.as_str());
    let features = state.store.person_feature_usage(project, person).await?;
    let ai = state.store.person_ai_usage(project, person).await?;
    let revenue = state.store.person_revenue(project, person).await?;
    let mut v = json!(UserRow::from(user));
    v["total_sessions"] = json!(sessions.total_sessions);
    v["avg_session_s"] = json!(sessions.avg_session_s);
    // Event name → count (an object, so keyed by name).
    let feature_usage: serde_json::Map<String, Value> = features
        .into_iter()
        .map(|f| (f.name, json!(f.events)))
        .collect();
    v["feature_usage"] = Value::Object(feature_usage);
    let mut token_usage = ai_usage::totals_json(&ai.totals);
    token_usage["by_model"] = ai
        .by_model
        .iter()
        .map(|m| {
            let mut row = ai_usage::totals_json(&m.totals);
            row["model"] = json!(m.model);
            row
        })
        .collect();
    v["token_usage"] = token_usage;
    v["currency"] = json!(revenue.currency);
    v["total_spent"] = json!(revenue.total_spent);
    v["unconverted_spent"] = json!(revenue.unconverted);
    v["subscription"] = json!(revenue.subscription);
    v["payments"] = json!(revenue.payments);
    if let (Value::Object(out), Value::Object(crm)) = (&mut v, crm::contact::fields(contact)) {
        out.extend(crm);
    }
    Ok(v)
}
