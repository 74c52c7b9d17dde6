//! Agent status: each change closes the open `agent_activity_logs` row
//! (`ended_at`, `duration_s` in whole seconds) and opens one for the new
//! status, in one transaction. Setting the status an agent already has
//! changes nothing, so a repeated call logs no zero-length rows.

use super::model::{AgentLog, AgentStatus};
use super::sql::{self, tx_exec, tx_optional, Val};
use crate::db::BeginWrite;
use crate::db::{err, on_db, Db};
use crate::StoreResult;

const COLUMNS: &str = "SELECT id, account_id, status, started_at, ended_at, duration_s
     FROM agent_activity_logs";
const CLOSE: &str = "UPDATE agent_activity_logs
     SET ended_at = $3, duration_s = CASE WHEN $3 > started_at THEN ($3 - started_at) / 1000 ELSE 0 END
     WHERE project_id = $1 AND account_id = $2 AND ended_at IS NULL";
const OPEN: &str =
    "INSERT INTO agent_activity_logs (project_id, id, account_id, status, started_at)
     VALUES ($1, $2, $3, $4, $5)";

/// The open log row of an agent (their current status), if any.
pub(crate) async fn current(
    db: &Db,
    project_id: &str,
    account_id: &str,
) -> StoreResult<Option<AgentLog>> {
    let sql = format!("{COLUMNS} WHERE project_id = $1 AND account_id = $2 AND ended_at IS NULL");
    sql::optional(db, &sql, &[project_id.into(), account_id.into()]).await
}

/// Every agent's open log row.
pub(crate) async fn all_current(db: &Db, project_id: &str) -> StoreResult<Vec<AgentLog>> {
    let sql = format!("{COLUMNS} WHERE project_id = $1 AND ended_at IS NULL");
    sql::all(db, &sql, &[project_id.into()]).await
}

/// An agent's log, newest first, at most `limit` rows.
pub(crate) async fn log(
    db: &Db,
    project_id: &str,
    account_id: &str,
    limit: i64,
) -> StoreResult<Vec<AgentLog>> {
    let sql = format!(
        "{COLUMNS} WHERE project_id = $1 AND account_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3"
    );
    sql::all(
        db,
        &sql,
        &[project_id.into(), account_id.into(), limit.into()],
    )
    .await
}

/// An agent's log rows that overlap `[from_ms, to_ms)`, oldest first, at
/// most `limit` of those starting inside it. Both reads are bounded by the
/// `agent_activity_agent` index (project, account, started_at): the rows
/// starting inside the range, and the one row before it (an agent's rows
/// never overlap, so only the latest earlier row can still run into it).
pub(crate) async fn between(
    db: &Db,
    project_id: &str,
    account_id: &str,
    from_ms: i64,
    to_ms: i64,
    limit: i64,
) -> StoreResult<Vec<AgentLog>> {
    let before = format!(
        "{COLUMNS} WHERE project_id = $1 AND account_id = $2 AND started_at < $3
         ORDER BY started_at DESC, id DESC LIMIT 1"
    );
    let prev: Option<AgentLog> = sql::optional(
        db,
        &before,
        &[project_id.into(), account_id.into(), from_ms.into()],
    )
    .await?;
    let inside = format!(
        "{COLUMNS} WHERE project_id = $1 AND account_id = $2 AND started_at >= $3 AND started_at < $4
         ORDER BY started_at, id LIMIT $5"
    );
    let rows: Vec<AgentLog> = sql::all(
        db,
        &inside,
        &[
            project_id.into(),
            account_id.into(),
            from_ms.into(),
            to_ms.into(),
            limit.into(),
        ],
    )
    .await?;
    let mut out: Vec<AgentLog> = prev
        .filter(|p| p.ended_at.is_none_or(|e| e > from_ms))
        .into_iter()
        .collect();
    out.extend(rows);
    Ok(out)
}

pub(crate) async fn set_status(
    db: &Db,
    project_id: &str,
    account_id: &str,
    status: AgentStatus,
    id: &str,
    now_ms: i64,
) -> StoreResult<AgentLog> {
    let open = format!("{COLUMNS} WHERE project_id = $1 AND account_id = $2 AND ended_at IS NULL");
    let who: Vec<Val> = vec![project_id.into(), account_id.into(), now_ms.into()];
    let row: AgentLog = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await.map_err(err)?;
        let current = tx_optional!(tx, AgentLog, &open, &who[..2])?;
        if let Some(c) = current.filter(|c| c.status == status.as_str()) {
            tx.commit().await.map_err(err)?;
            return Ok(c);
        }
        tx_exec!(tx, CLOSE, &who)?;
        let new: Vec<Val> = vec![
            project_id.into(),
            id.into(),
            account_id.into(),
            status.as_str().into(),
            now_ms.into(),
        ];
        tx_exec!(tx, OPEN, &new)?;
        let row = tx_optional!(tx, AgentLog, &open, &who[..2])?;
        tx.commit().await.map_err(err)?;
        row.ok_or(crate::StoreError::NotFound)
    }
    .await)?;
    Ok(row)
}

/// One of the agent's dashboard sockets is open at `now_ms`: stamps their
/// open status row (nothing when they are offline or have none).
pub(crate) async fn touch(
    db: &Db,
    project_id: &str,
    account_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        db,
        "UPDATE agent_activity_logs SET seen_at = $3
         WHERE project_id = $1 AND account_id = $2 AND ended_at IS NULL
           AND status <> 'offline' AND (seen_at IS NULL OR seen_at < $3)",
        &[project_id.into(), account_id.into(), now_ms.into()],
    )
    .await
    .map(drop)
}

/// Online or away agents no socket has been seen for since longer than
/// their project's online window: `(project, account, last seen)`, the last
/// seen moment being the latest stamp or, without one, when the status began.
pub(crate) async fn stale(db: &Db, now_ms: i64) -> StoreResult<Vec<(String, String, i64)>> {
    sql::all(
        db,
        "SELECT l.project_id, l.account_id, COALESCE(l.seen_at, l.started_at)
         FROM agent_activity_logs l
         JOIN projects p ON p.id = l.project_id
         WHERE l.ended_at IS NULL AND l.status <> 'offline'
           AND COALESCE(l.seen_at, l.started_at) < $1 - p.online_window_s * 1000",
        &[now_ms.into()],
    )
    .await
}
