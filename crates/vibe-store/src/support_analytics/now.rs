//! The few Support analytics figures that are not sums over a period but
//! the state right now, read from the inbox's own tables. Each is indexed
//! and bounded so its cost does not grow with history:
//!
//! - [`open_now`]: conversations not resolved/closed, per status and
//!   priority (`conversations_inbox` on `(project_id, status, …)`: only the
//!   open and pending rows are visited);
//! - [`latest_failures`]: the newest `failed` facts of a range
//!   (`support_events_at` on `(project_id, at)`, walked backwards, `LIMIT`);
//! - [`queue_now`]: rows waiting or being sent, and sent in the last
//!   minutes (the same index);
//! - [`last_webhook_at`]: the newest provider-originated fact of a channel
//!   (an inbound message or a delivery status) within a window
//!   (`support_events_at` on `(project_id, at)`).
//!
//! The role scope is the counters' one ([`ReportScope`]) applied to the
//! conversation's current assignee and team, so "now" and the period sums
//! admit the same people.

use crate::db::{err, on_db, Db};
use crate::StoreResult;

use super::{ReportFilter, ReportScope};

/// Pushes `AND <scope and filter over conversation alias c>` with binds.
macro_rules! push_scope {
    ($q:expr, $scope:expr, $filter:expr) => {{
        let q = &mut $q;
        match $scope {
            ReportScope::All => {}
            ReportScope::Agent(a) => {
                q.push(" AND c.assignee_account_id = ").push_bind(a.clone());
            }
            ReportScope::Teams(teams, members) => {
                q.push(" AND (1 = 0");
                if !teams.is_empty() {
                    q.push(" OR c.team_id IN (");
                    let mut sep = q.separated(", ");
                    for t in teams {
                        sep.push_bind(t.clone());
                    }
                    q.push(")");
                }
                if !members.is_empty() {
                    q.push(" OR c.assignee_account_id IN (");
                    let mut sep = q.separated(", ");
                    for m in members {
                        sep.push_bind(m.clone());
                    }
                    q.push(")");
                }
                q.push(")");
            }
        }
        let f: &ReportFilter = $filter;
        if let Some(a) = &f.account_id {
            q.push(" AND c.assignee_account_id = ").push_bind(a.clone());
        }
        if let Some(t) = &f.team_id {
            q.push(" AND c.team_id = ").push_bind(t.clone());
        }
        if let Some(ch) = &f.channel {
            q.push(" AND c.channel = ").push_bind(ch.clone());
        }
    }};
}
pub(crate) use push_scope;

/// `(status, priority, conversations)` of the open and pending ones.
pub async fn open_now(
    db: &Db,
    project_id: &str,
    scope: &ReportScope,
    filter: &ReportFilter,
) -> StoreResult<Vec<(String, String, i64)>> {
    on_db!(db, pool, DB => {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "SELECT c.status, c.priority, COUNT(*) FROM conversations c WHERE c.project_id = ",
        );
        q.push_bind(project_id.to_owned());
        q.push(" AND c.status IN ('open', 'pending')");
        push_scope!(q, scope, filter);
        q.push(" GROUP BY c.status, c.priority");
        q.build_query_as().fetch_all(pool).await
    })
    .map_err(err)
}

/// A failed outbound message and who it was for.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FailedMessage {
    pub message_id: String,
    pub conversation_id: String,
    pub site_user_id: String,
    pub traits: String,
    pub failed_reason: Option<String>,
    pub failed_at: i64,
}

/// The newest `limit` `failed` facts of `[from_ms, to_ms)` on `channel`
/// (the sender giving up and the provider's failed status alike), in the
/// counters' scope (the fact's agent and team), with the contact. Walks the
/// `failed` facts back from `to_ms` (`support_events_name_at`) and stops at
/// `limit`.
#[allow(clippy::too_many_arguments)]
pub async fn latest_failures(
    db: &Db,
    project_id: &str,
    scope: &ReportScope,
    filter: &ReportFilter,
    channel: &str,
    from_ms: i64,
    to_ms: i64,
    limit: i64,
) -> StoreResult<Vec<FailedMessage>> {
    on_db!(db, pool, DB => {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "SELECT e.message_id, e.conversation_id, c.site_user_id,
                    COALESCE(u.traits, '{}') AS traits, e.label AS failed_reason, e.at AS failed_at
             FROM support_events e
             JOIN conversations c ON c.project_id = e.project_id AND c.id = e.conversation_id
             LEFT JOIN site_users u ON u.project_id = c.project_id AND u.id = c.site_user_id
             WHERE e.name = 'failed' AND e.message_id IS NOT NULL AND e.project_id = ",
        );
        q.push_bind(project_id.to_owned());
        q.push(" AND e.at >= ").push_bind(from_ms);
        q.push(" AND e.at < ").push_bind(to_ms);
        // `|| ''` keeps this term off `support_events_channel_at`: walking a
        // channel's facts for the few failures of one agent read every fact
        // of the month (0.5 s at 1M messages) where the failed facts are a
        // few thousand.
        q.push(" AND e.channel || '' = ").push_bind(channel.to_owned());
        match scope {
            ReportScope::All => {}
            ReportScope::Agent(a) => {
                q.push(" AND e.account_id = ").push_bind(a.clone());
            }
            ReportScope::Teams(teams, members) => {
                q.push(" AND (1 = 0");
                if !teams.is_empty() {
                    q.push(" OR e.team_id IN (");
                    let mut sep = q.separated(", ");
                    for t in teams {
                        sep.push_bind(t.clone());
                    }
                    q.push(")");
                }
                if !members.is_empty() {
                    q.push(" OR e.account_id IN (");
                    let mut sep = q.separated(", ");
                    for m in members {
                        sep.push_bind(m.clone());
                    }
                    q.push(")");
                }
                q.push(")");
            }
        }
        if let Some(a) = &filter.account_id {
            q.push(" AND e.account_id = ").push_bind(a.clone());
        }
        if let Some(t) = &filter.team_id {
            q.push(" AND e.team_id = ").push_bind(t.clone());
        }
        q.push(" ORDER BY e.at DESC, e.message_id DESC LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(pool).await
    })
    .map_err(err)
}

/// `(waiting or sending now, sent at or after since_ms)` on `channel`.
pub async fn queue_now(
    db: &Db,
    project_id: &str,
    channel: &str,
    sent_since_ms: i64,
) -> StoreResult<(i64, i64)> {
    let depth: i64 = db
        .scalar(
            "SELECT COUNT(*) FROM outbound_queue
             WHERE project_id = $1 AND state IN ('pending', 'sending') AND channel = $2",
            (project_id, channel),
        )
        .await?;
    let sent: i64 = db
        .scalar(
            "SELECT COUNT(*) FROM outbound_queue
             WHERE project_id = $1 AND state = 'sent' AND updated_at >= $2 AND channel = $3",
            (project_id, sent_since_ms, channel),
        )
        .await?;
    Ok((depth, sent))
}

/// The newest provider-originated fact on `channel` at or after
/// `since_ms`: an inbound message or a delivered/read/failed status.
pub async fn last_webhook_at(
    db: &Db,
    project_id: &str,
    channel: &str,
    since_ms: i64,
) -> StoreResult<Option<i64>> {
    // Walks `support_events_channel_at` (migration 0037) back from now and
    // stops at the first match: a MAX(at) over `support_events_at` read
    // every fact of the day, of every channel, to find the newest.
    let newest: Option<(i64,)> = db
        .optional(
            "SELECT at FROM support_events
             WHERE project_id = $1 AND at >= $2 AND channel = $3
               AND ((name = 'message' AND flag = 0) OR name IN ('delivered', 'read', 'failed'))
             ORDER BY at DESC LIMIT 1",
            (project_id, since_ms, channel),
        )
        .await?;
    Ok(newest.map(|(at,)| at))
}
