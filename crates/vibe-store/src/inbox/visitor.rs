//! Who a chat-widget visitor is, for the in-app channel: strictly by their
//! anonymous id's alias (or a verified user id), never by the loose
//! "any id" lookup of the people screens, so a visitor cannot name someone
//! else's person or user id and read their conversation.

use super::sql::{self, Val};
use crate::db::Db;
use crate::StoreResult;

/// The person a visitor's messages belong to:
/// - the person of `user_id` when one is given (the server has verified it)
///   and known;
/// - else the person `anonymous_id` is an alias of;
/// - else `anonymous_id` itself, the id ingest gives a new anonymous person
///   (their first page view may still be queued) — unless a person already
///   has that id without being its alias (a crafted id), then `None`.
pub(crate) async fn person(
    db: &Db,
    project_id: &str,
    anonymous_id: &str,
    user_id: Option<&str>,
) -> StoreResult<Option<String>> {
    if let Some(uid) = user_id {
        let found: Option<(String,)> = sql::optional(
            db,
            "SELECT id FROM site_users WHERE project_id = $1 AND user_id = $2",
            &[project_id.into(), uid.into()],
        )
        .await?;
        if let Some((id,)) = found {
            return Ok(Some(id));
        }
    }
    let key: Vec<Val> = vec![project_id.into(), anonymous_id.into()];
    let alias: Option<(String,)> = sql::optional(
        db,
        "SELECT site_user_id FROM site_user_aliases WHERE project_id = $1 AND anonymous_id = $2",
        &key,
    )
    .await?;
    if let Some((id,)) = alias {
        return Ok(Some(id));
    }
    let taken: Option<(String,)> = sql::optional(
        db,
        "SELECT id FROM site_users WHERE project_id = $1 AND id = $2",
        &key,
    )
    .await?;
    Ok(taken.is_none().then(|| anonymous_id.to_owned()))
}
