//! Audit domain: the append-only log of who changed what in a project
//! (`audit_log`, migration 0032). The server decides what is recorded and
//! redacts it; the store writes a row and reads keyset pages, newest first,
//! of one project only. Shared SQL only.

mod model;

use async_trait::async_trait;

pub use model::*;

use crate::db::HasDb;
use crate::inbox::sql::{self, Val};
use crate::inbox::{Cursor, Page};
use crate::StoreResult;

const INSERT: &str = "INSERT INTO audit_log
     (project_id, id, actor_account_id, actor_email, action, resource, params, ip, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const SELECT: &str = "SELECT id, actor_account_id, actor_email, action, resource, params, ip, at
     FROM audit_log WHERE project_id = $1";

#[async_trait]
pub trait AuditStore: HasDb {
    /// Appends one row to the project's log.
    async fn record_audit(&self, project_id: &str, entry: &AuditEntry) -> StoreResult<()> {
        let params = (
            project_id,
            &entry.id,
            &entry.actor_account_id,
            &entry.actor_email,
            &entry.action,
            &entry.resource,
            &entry.params,
            &entry.ip,
            entry.at,
        );
        self.db().execute(INSERT, params).await.map(drop)
    }

    /// One page of the project's log, newest first, after `cursor`; at most
    /// `limit` rows and the cursor of the next page if there is one.
    async fn audit_log(
        &self,
        project_id: &str,
        filter: &AuditFilter,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> StoreResult<Page<AuditEntry>> {
        let (sql, vals) = page_query(project_id, filter, cursor, limit);
        let mut items: Vec<AuditEntry> = sql::all(self.db(), &sql, &vals).await?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit.max(0) as usize);
            items.last().map(|e| Cursor {
                ts: e.at,
                id: e.id.clone(),
            })
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

/// The statement of one page: only the filters given become conditions, so
/// each query can use the index that fits it (`audit_log_by_*`).
fn page_query(
    project_id: &str,
    filter: &AuditFilter,
    cursor: Option<&Cursor>,
    limit: i64,
) -> (String, Vec<Val>) {
    let mut sql = SELECT.to_owned();
    let mut vals: Vec<Val> = vec![project_id.into()];
    // Binds `v` and names its placeholder.
    fn bind(vals: &mut Vec<Val>, v: Val) -> String {
        vals.push(v);
        format!("${}", vals.len())
    }
    if let Some(actor) = &filter.actor {
        let column = if actor.contains('@') {
            "actor_email"
        } else {
            "actor_account_id"
        };
        let p = bind(&mut vals, actor.into());
        sql += &format!(" AND {column} = {p}");
    }
    if let Some(action) = &filter.action {
        let p = bind(&mut vals, action.into());
        sql += &format!(" AND action = {p}");
    }
    if let Some(prefix) = &filter.resource_prefix {
        // Not LIKE: its case rules and wildcards differ between the backends.
        let p = bind(&mut vals, prefix.into());
        sql += &format!(" AND substr(resource, 1, length({p})) = {p}");
    }
    if let Some(from) = filter.from {
        let p = bind(&mut vals, from.into());
        sql += &format!(" AND at >= {p}");
    }
    if let Some(to) = filter.to {
        let p = bind(&mut vals, to.into());
        sql += &format!(" AND at < {p}");
    }
    if let Some(c) = cursor {
        let (t, i) = (
            bind(&mut vals, c.ts.into()),
            bind(&mut vals, (&c.id).into()),
        );
        sql += &format!(" AND (at < {t} OR (at = {t} AND id < {i}))");
    }
    let p = bind(&mut vals, (limit + 1).into());
    sql += &format!(" ORDER BY at DESC, id DESC LIMIT {p}");
    (sql, vals)
}
