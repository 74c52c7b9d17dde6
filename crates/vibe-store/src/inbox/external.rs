//! What the support API (`POST /api/v1/support/…`, a helpdesk or a bot
//! reporting into Vibe with a project secret key) needs from the store
//! beyond the agent API: the person a reported contact is, and a
//! conversation by its external id.
//!
//! - **Contact.** `user_id`: the person with that user id, else a new one
//!   `uid:<user_id>` (as ingest names people known by a user id). `phone`
//!   (E.164): the person whose user id is `tel:<phone>` — the same person a
//!   WhatsApp or SMS webhook finds ([`super::inbound`]). `email`: the most
//!   recently seen person with that email (case-insensitive), else a new
//!   one with user id `mailto:<email>`. `anonymous_id`: the person the
//!   tracker's alias names, else the person of that id; never created (a
//!   visitor is created by tracking, not by a report). A new person counts
//!   one new user in `daily_stats` on the project-local day of `at`, as a
//!   webhook contact does.

use crate::db::BeginWrite;
use vibe_core::day::ProjectTz;

use super::sql::{tx_exec, tx_optional, Val};
use crate::db::{err, on_db, Db};
use crate::ingest::io::{INSERT_DAILY_STATS, ON_DAILY_STATS_CONFLICT};
use crate::{StoreError, StoreResult};

/// Who a reported conversation is with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRef {
    UserId(String),
    AnonymousId(String),
    /// Lowercased.
    Email(String),
    /// E.164 (`+` and digits).
    Phone(String),
}

const TIMEZONE: &str = "SELECT timezone FROM projects WHERE id = $1";
const BY_USER_ID: &str = "SELECT id FROM site_users WHERE project_id = $1 AND user_id = $2";
const BY_EMAIL: &str = "SELECT id FROM site_users WHERE project_id = $1 AND LOWER(email) = $2
     ORDER BY last_seen DESC, id LIMIT 1";
const BY_ALIAS: &str =
    "SELECT site_user_id FROM site_user_aliases WHERE project_id = $1 AND anonymous_id = $2";
const BY_ID: &str = "SELECT id FROM site_users WHERE project_id = $1 AND id = $2";
const INSERT_PERSON: &str = "INSERT INTO site_users (project_id, id, user_id, email, traits,
        first_seen, last_seen, event_count, session_count)
     VALUES ($1, $2, $3, $4, $5, $6, $6, 0, 0)
     ON CONFLICT DO NOTHING";

/// The person `contact` names (see the module docs); `None` only for an
/// unknown anonymous id.
pub(crate) async fn contact(
    db: &Db,
    project_id: &str,
    contact: &ContactRef,
    at: i64,
) -> StoreResult<Option<String>> {
    let (user_id, email, traits) = match contact {
        ContactRef::AnonymousId(anon) => {
            let key: Vec<Val> = vec![project_id.into(), anon.into()];
            let found: Option<(String,)> = super::sql::optional(db, BY_ALIAS, &key).await?;
            if let Some((id,)) = found {
                return Ok(Some(id));
            }
            let found: Option<(String,)> = super::sql::optional(db, BY_ID, &key).await?;
            return Ok(found.map(|r| r.0));
        }
        ContactRef::Email(e) => {
            let key: Vec<Val> = vec![project_id.into(), e.into()];
            let found: Option<(String,)> = super::sql::optional(db, BY_EMAIL, &key).await?;
            if let Some((id,)) = found {
                return Ok(Some(id));
            }
            let traits = serde_json::json!({ "email": e }).to_string();
            (format!("mailto:{e}"), Some(e.clone()), traits)
        }
        ContactRef::Phone(p) => (
            super::inbound::phone_user_id(p),
            None,
            serde_json::json!({ "phone": p }).to_string(),
        ),
        ContactRef::UserId(u) => (u.clone(), None, "{}".to_owned()),
    };
    let project: Vec<Val> = vec![project_id.into()];
    let by_user: Vec<Val> = vec![project_id.into(), (&user_id).into()];
    on_db!(db, pool => async {
        let mut tx = pool.begin_write().await.map_err(err)?;
        if let Some((id,)) = tx_optional!(tx, (String,), BY_USER_ID, &by_user)? {
            tx.commit().await.map_err(err)?;
            return Ok(Some(id));
        }
        let id = crate::ingest::identities::user_person_id(&user_id);
        let row: Vec<Val> = vec![
            project_id.into(),
            (&id).into(),
            (&user_id).into(),
            email.clone().into(),
            traits.clone().into(),
            at.into(),
        ];
        if tx_exec!(tx, INSERT_PERSON, &row)? == 1 {
            let tz: Option<(String,)> = tx_optional!(tx, (String,), TIMEZONE, &project)?;
            let tz = ProjectTz::or_utc(tz.as_ref().map_or("UTC", |t| t.0.as_str()));
            let stats = format!(
                "{INSERT_DAILY_STATS} VALUES ($1, $2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0){ON_DAILY_STATS_CONFLICT}"
            );
            let day: Vec<Val> = vec![project_id.into(), tz.day_of(at).into()];
            tx_exec!(tx, &stats, &day)?;
            tx.commit().await.map_err(err)?;
            return Ok(Some(id));
        }
        // Created meanwhile (by ingest or another report).
        let found = tx_optional!(tx, (String,), BY_USER_ID, &by_user)?;
        tx.commit().await.map_err(err)?;
        found
            .map(|r| Some(r.0))
            .ok_or_else(|| StoreError::Conflict("person".into()))
    }
    .await)
}
