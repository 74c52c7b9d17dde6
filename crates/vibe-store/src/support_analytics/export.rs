//! The conversations export (one row per conversation created in a range),
//! read page by page on the keyset `(created_at, id)` of the
//! `conversations_created` index (migration 0033), so a download walks the
//! range once in constant memory; and each page's SLA facts, looked up by
//! the page's conversation ids (`support_events_conversation`, migration
//! 0035).

use crate::db::{err, on_db, Db};
use crate::StoreResult;

use super::{ReportFilter, ReportScope};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExportConversation {
    pub id: String,
    pub site_user_id: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub channel: String,
    pub status: String,
    pub priority: String,
    pub assignee_account_id: Option<String>,
    pub team_id: Option<String>,
    pub created_at: i64,
    pub first_response_s: Option<i64>,
    pub resolution_s: Option<i64>,
    pub csat: Option<i64>,
    pub handled_by_bot: i64,
    pub bot_only: i64,
    pub escalated_to_human: i64,
    pub intent: Option<String>,
}

/// Conversations created at `[from_ms, to_ms)` after `after` (`(created_at,
/// id)` of the previous page's last row), oldest first, at most `limit`,
/// in the scope (current assignee and team) and filters.
#[allow(clippy::too_many_arguments)]
pub async fn conversations_page(
    db: &Db,
    project_id: &str,
    scope: &ReportScope,
    filter: &ReportFilter,
    from_ms: i64,
    to_ms: i64,
    after: Option<&(i64, String)>,
    limit: i64,
) -> StoreResult<Vec<ExportConversation>> {
    on_db!(db, pool, DB => {
        let mut q = sqlx::QueryBuilder::<DB>::new(
            "SELECT c.id, c.site_user_id, u.name AS contact_name, u.email AS contact_email,
                    c.channel, c.status, c.priority, c.assignee_account_id, c.team_id,
                    c.created_at, c.first_response_s, c.resolution_s, c.csat,
                    c.handled_by_bot, c.bot_only, c.escalated_to_human, c.intent
             FROM conversations c
             LEFT JOIN site_users u ON u.project_id = c.project_id AND u.id = c.site_user_id
             WHERE c.project_id = ",
        );
        q.push_bind(project_id.to_owned());
        q.push(" AND c.created_at >= ").push_bind(from_ms);
        q.push(" AND c.created_at < ").push_bind(to_ms);
        if let Some((at, id)) = after {
            q.push(" AND (c.created_at > ").push_bind(*at);
            q.push(" OR (c.created_at = ").push_bind(*at);
            q.push(" AND c.id > ").push_bind(id.clone());
            q.push("))");
        }
        super::now::push_scope!(q, scope, filter);
        q.push(" ORDER BY c.created_at, c.id LIMIT ").push_bind(limit);
        q.build_query_as().fetch_all(pool).await
    })
    .map_err(err)
}

/// `(conversation id, name, label, at)` of the `sla` and `sla_miss` facts
/// of these conversations, each conversation's in time order. Ordered by
/// conversation first so the lookup walks `support_events_conversation`
/// (migration 0035) and needs no sort: ordered by `at` alone, SQLite
/// prefers `support_events_at` and reads the project's every fact.
pub async fn sla_facts(
    db: &Db,
    project_id: &str,
    conversation_ids: &[&str],
) -> StoreResult<Vec<(String, String, Option<String>, i64)>> {
    db.all_in(
        "SELECT conversation_id, name, label, at FROM support_events WHERE project_id = ",
        project_id,
        " AND name IN ('sla', 'sla_miss') AND conversation_id",
        conversation_ids,
        " ORDER BY conversation_id, at",
    )
    .await
}
