//! SLA policies: one per conversation priority (the targets the Support
//! analytics issue measures timers against).

use super::model::{Priority, SlaPolicy};
use super::sql;
use crate::db::Db;
use crate::StoreResult;

const COLUMNS: &str = "SELECT priority, first_response_target_s, resolution_target_s,
        next_response_target_s, business_hours, updated_at
     FROM sla_policies";

/// Every policy, by priority (low first).
pub(crate) async fn list(db: &Db, project_id: &str) -> StoreResult<Vec<SlaPolicy>> {
    let sql = format!("{COLUMNS} WHERE project_id = $1");
    let mut rows: Vec<SlaPolicy> = sql::all(db, &sql, &[project_id.into()]).await?;
    rows.sort_by_key(|p| Priority::parse(&p.priority));
    Ok(rows)
}

/// Creates or replaces the policy of `policy.priority`.
pub(crate) async fn put(db: &Db, project_id: &str, policy: &SlaPolicy) -> StoreResult<SlaPolicy> {
    let p = policy;
    sql::execute(
        db,
        "INSERT INTO sla_policies (project_id, priority, first_response_target_s,
             resolution_target_s, business_hours, updated_at, next_response_target_s)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (project_id, priority) DO UPDATE SET
             first_response_target_s = excluded.first_response_target_s,
             resolution_target_s = excluded.resolution_target_s,
             business_hours = excluded.business_hours,
             next_response_target_s = excluded.next_response_target_s,
             updated_at = excluded.updated_at",
        &[
            project_id.into(),
            (&p.priority).into(),
            p.first_response_target_s.into(),
            p.resolution_target_s.into(),
            (&p.business_hours).into(),
            p.updated_at.into(),
            p.next_response_target_s.into(),
        ],
    )
    .await?;
    Ok(policy.clone())
}

pub(crate) async fn delete(db: &Db, project_id: &str, priority: Priority) -> StoreResult<()> {
    let n = sql::execute(
        db,
        "DELETE FROM sla_policies WHERE project_id = $1 AND priority = $2",
        &[project_id.into(), priority.as_str().into()],
    )
    .await?;
    crate::db::found(n)
}
