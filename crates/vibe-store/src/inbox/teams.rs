//! Teams of project members and inboxes. Deleting a team takes it off its
//! members, inboxes and conversations (they become team-less, i.e. the shared
//! queue of [`super::scope`]).

use super::model::{Inbox, Team};
use super::sql::{self, tx_exec, Val};
use crate::db::BeginWrite;
use crate::db::{err, on_db, Db};
use crate::{StoreError, StoreResult};

const TEAMS: &str = "SELECT id, name, created_at FROM teams WHERE project_id = $1";

async fn with_members(db: &Db, project_id: &str, mut teams: Vec<Team>) -> StoreResult<Vec<Team>> {
    let rows: Vec<(String, String)> = sql::all(
        db,
        "SELECT team_id, account_id FROM team_members WHERE project_id = $1",
        &[project_id.into()],
    )
    .await?;
    for t in &mut teams {
        t.members = rows
            .iter()
            .filter(|(team, _)| *team == t.id)
            .map(|(_, a)| a.clone())
            .collect();
        t.members.sort_unstable();
    }
    // By bytes, the same on both backends.
    teams.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(teams)
}

pub(crate) async fn list(db: &Db, project_id: &str) -> StoreResult<Vec<Team>> {
    let teams = sql::all(db, TEAMS, &[project_id.into()]).await?;
    with_members(db, project_id, teams).await
}

pub(crate) async fn get(db: &Db, project_id: &str, id: &str) -> StoreResult<Option<Team>> {
    let sql = format!("{TEAMS} AND id = $2");
    let teams: Vec<Team> = sql::all(db, &sql, &[project_id.into(), id.into()]).await?;
    Ok(with_members(db, project_id, teams)
        .await?
        .into_iter()
        .next())
}

/// `Conflict` when the project has a team of this name.
pub(crate) async fn create(
    db: &Db,
    project_id: &str,
    id: &str,
    name: &str,
    now_ms: i64,
) -> StoreResult<Team> {
    sql::execute(
        db,
        "INSERT INTO teams (project_id, id, name, created_at) VALUES ($1, $2, $3, $4)",
        &[project_id.into(), id.into(), name.into(), now_ms.into()],
    )
    .await?;
    get(db, project_id, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn rename(db: &Db, project_id: &str, id: &str, name: &str) -> StoreResult<Team> {
    let n = sql::execute(
        db,
        "UPDATE teams SET name = $3 WHERE project_id = $1 AND id = $2",
        &[project_id.into(), id.into(), name.into()],
    )
    .await?;
    crate::db::found(n)?;
    get(db, project_id, id).await?.ok_or(StoreError::NotFound)
}

pub(crate) async fn delete(db: &Db, project_id: &str, id: &str) -> StoreResult<()> {
    let vals: Vec<Val> = vec![project_id.into(), id.into()];
    let deleted = on_db!(db, pool => async {
        let mut tx = pool.begin_write().await.map_err(err)?;
        let n = tx_exec!(tx, "DELETE FROM teams WHERE project_id = $1 AND id = $2", &vals)?;
        tx_exec!(tx, "DELETE FROM team_members WHERE project_id = $1 AND team_id = $2", &vals)?;
        tx_exec!(tx, "UPDATE inboxes SET team_id = NULL WHERE project_id = $1 AND team_id = $2", &vals)?;
        tx_exec!(tx, "UPDATE conversations SET team_id = NULL WHERE project_id = $1 AND team_id = $2", &vals)?;
        tx.commit().await.map_err(err)?;
        Ok::<u64, StoreError>(n)
    }
    .await)?;
    crate::db::found(deleted)
}

/// Adds a member to a team (again: nothing changes).
pub(crate) async fn add_member(
    db: &Db,
    project_id: &str,
    team_id: &str,
    account_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sql::execute(
        db,
        "INSERT INTO team_members (project_id, team_id, account_id, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[
            project_id.into(),
            team_id.into(),
            account_id.into(),
            now_ms.into(),
        ],
    )
    .await
    .map(drop)
}

pub(crate) async fn remove_member(
    db: &Db,
    project_id: &str,
    team_id: &str,
    account_id: &str,
) -> StoreResult<()> {
    let n = sql::execute(
        db,
        "DELETE FROM team_members WHERE project_id = $1 AND team_id = $2 AND account_id = $3",
        &[project_id.into(), team_id.into(), account_id.into()],
    )
    .await?;
    crate::db::found(n)
}

/// The teams an account is in.
pub(crate) async fn of_account(
    db: &Db,
    project_id: &str,
    account_id: &str,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sql::all(
        db,
        "SELECT team_id FROM team_members WHERE project_id = $1 AND account_id = $2",
        &[project_id.into(), account_id.into()],
    )
    .await?;
    let mut ids: Vec<String> = rows.into_iter().map(|(t,)| t).collect();
    ids.sort_unstable();
    Ok(ids)
}

pub(crate) async fn create_inbox(db: &Db, project_id: &str, inbox: &Inbox) -> StoreResult<Inbox> {
    let i = inbox;
    sql::execute(
        db,
        "INSERT INTO inboxes (project_id, id, name, channel, team_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            project_id.into(),
            (&i.id).into(),
            (&i.name).into(),
            (&i.channel).into(),
            (&i.team_id).into(),
            i.created_at.into(),
        ],
    )
    .await?;
    Ok(inbox.clone())
}

pub(crate) async fn inboxes(db: &Db, project_id: &str) -> StoreResult<Vec<Inbox>> {
    sql::all(
        db,
        "SELECT id, name, channel, team_id, created_at FROM inboxes WHERE project_id = $1
         ORDER BY created_at, id",
        &[project_id.into()],
    )
    .await
}
