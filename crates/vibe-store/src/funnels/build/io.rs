//! One build chunk, written once: what each phase reads and writes, over the
//! backend's [`BuildIo`]. The backend begins the transaction, serialises it
//! with ingest (SQLite: the writer; PostgreSQL: table locks), reads the funnel
//! row and saves the state with [`SAVE_STATE`].

use super::{people_per_chunk, BuildState, Phase};
use crate::db::{column, first_row, first_value, Db, TxRead};
use crate::funnel_rollup::io::{recompute, scan, FunnelIo};
use crate::funnel_rollup::FunnelDef;
use crate::StoreResult;

/// The rollup tables a `Clear` chunk empties.
pub const ROLLUP_TABLES: [&str; 3] = ["funnel_hits", "funnel_reach", "funnel_reach_hours"];
pub const EVENT_BOUNDS: &str = "SELECT MIN(ts), MAX(ts) FROM user_events WHERE project_id = $1";
/// The ts of the `$3 + 1`-th event after `$2`: a scan chunk ends there, all
/// events of that ts included, so the cursor can be a ts alone.
pub const CHUNK_END: &str =
    "SELECT ts FROM user_events WHERE project_id = $1 AND ts > $2 ORDER BY ts LIMIT 1 OFFSET $3";
/// A funnel's steps, window and build columns (PostgreSQL adds `FOR UPDATE`).
pub const FUNNEL_ROW: &str =
    "SELECT steps, window_days, build_phase, build_ts, build_person, build_first_ts, build_last_ts
     FROM funnels WHERE project_id = $1 AND id = $2";
pub const SAVE_STATE: &str =
    "UPDATE funnels SET build_phase = $1, build_ts = $2, build_person = $3,
     build_first_ts = $4, build_last_ts = $5 WHERE project_id = $6 AND id = $7";

/// Steps, window and build columns of a funnel row ([`FUNNEL_ROW`]).
pub type FunnelRow = (
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

impl BuildState {
    pub fn of_row(
        phase: i64,
        scanned_to: Option<i64>,
        person: Option<String>,
        first_ts: Option<i64>,
        last_ts: Option<i64>,
    ) -> Self {
        Self {
            phase: Phase::from_code(phase),
            scanned_to,
            person,
            first_ts,
            last_ts,
        }
    }
}

/// The values of [`SAVE_STATE`], in order.
pub type SavedState<'a> = (
    i64,
    Option<i64>,
    Option<&'a str>,
    Option<i64>,
    Option<i64>,
    &'a str,
    &'a str,
);

impl BuildState {
    /// This state as [`SAVE_STATE`]'s values for one funnel.
    pub fn saved<'a>(&'a self, project_id: &'a str, funnel_id: &'a str) -> SavedState<'a> {
        let person = self.person.as_deref();
        let (ts, first, last) = (self.scanned_to, self.first_ts, self.last_ts);
        (
            self.phase.code(),
            ts,
            person,
            first,
            last,
            project_id,
            funnel_id,
        )
    }
}

/// A funnel row's definition and build state.
pub fn of_funnel_row(project_id: &str, funnel_id: &str, row: FunnelRow) -> (FunnelDef, BuildState) {
    let (steps, window_days, phase, ts, person, first, last) = row;
    let def = FunnelDef::stored(funnel_id, project_id, &steps, window_days);
    (def, BuildState::of_row(phase, ts, person, first, last))
}

/// The build chunk's statements that differ by backend.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait BuildIo:
    FunnelIo + TxRead<(i64,)> + TxRead<(String,)> + TxRead<(Option<i64>, Option<i64>)>
{
    /// Deletes at most `limit` rows of the funnel from `table`; how many went.
    async fn clear_some(&mut self, table: &str, def: &FunnelDef, limit: i64) -> StoreResult<u64>;
    /// [`EVENT_BOUNDS`].
    async fn event_bounds(&mut self, project_id: &str) -> StoreResult<(Option<i64>, Option<i64>)> {
        let bounds = first_row(self, EVENT_BOUNDS, &[project_id.into()]).await?;
        bounds.ok_or(crate::StoreError::NotFound)
    }
    /// [`CHUNK_END`].
    async fn chunk_end(
        &mut self,
        project_id: &str,
        after: i64,
        skip: i64,
    ) -> StoreResult<Option<i64>> {
        first_value(
            self,
            CHUNK_END,
            &[project_id.into(), after.into(), skip.into()],
        )
        .await
    }
    /// Up to `per` people with hits of the funnel after `after`, in order.
    async fn people_after(
        &mut self,
        def: &FunnelDef,
        after: Option<&str>,
        per: i64,
    ) -> StoreResult<Vec<String>> {
        // Person ids are never empty (blank ids are refused at the edge), so
        // "" is before all of them; a NULL cursor would need a cast on
        // PostgreSQL, which cannot type `$3 IS NULL`.
        let (project, funnel, after) = (
            def.project_id.as_str(),
            def.id.as_str(),
            after.unwrap_or(""),
        );
        column(
            self,
            PEOPLE_AFTER,
            &[project.into(), funnel.into(), after.into(), per.into()],
        )
        .await
    }
}

pub const PEOPLE_AFTER: &str = "SELECT DISTINCT person FROM funnel_hits
     WHERE project_id = $1 AND funnel_id = $2 AND person > $3
     ORDER BY person LIMIT $4";

/// Does one chunk of the funnel's current phase and moves `state` on.
pub async fn advance<I: BuildIo>(
    io: &mut I,
    def: &FunnelDef,
    state: &mut BuildState,
    chunk: usize,
) -> StoreResult<()> {
    let limit = chunk as i64;
    match state.phase {
        Phase::Ready => {}
        Phase::Clear => {
            let mut all_gone = true;
            for table in ROLLUP_TABLES {
                let deleted = io.clear_some(table, def, limit).await?;
                all_gone &= (deleted as i64) < limit;
            }
            if all_gone {
                // Empty now, and nothing interleaves before the commit.
                let (first, last) = io.event_bounds(&def.project_id).await?;
                *state = BuildState::of_row(Phase::Hits.code(), None, None, first, last);
            }
        }
        Phase::Hits => {
            let after = state.scanned_to.unwrap_or(i64::MIN);
            let until = io.chunk_end(&def.project_id, after, limit - 1).await?;
            scan(io, def, after, until).await?;
            match until {
                Some(t) => state.scanned_to = Some(t),
                None => {
                    state.phase = Phase::Reach;
                    state.person = None;
                }
            }
        }
        Phase::Reach => {
            let per = people_per_chunk(chunk);
            let people = io
                .people_after(def, state.person.as_deref(), per as i64)
                .await?;
            recompute(io, def, &people).await?;
            if people.len() < per {
                state.phase = Phase::Ready;
            } else {
                state.person = people.last().cloned();
            }
        }
    }
    Ok(())
}

/// Build state of each funnel of a project.
pub async fn states(db: &Db, project_id: &str) -> StoreResult<Vec<(String, BuildState)>> {
    type Row = (
        String,
        i64,
        Option<i64>,
        Option<String>,
        Option<i64>,
        Option<i64>,
    );
    let sql = "SELECT id, build_phase, build_ts, build_person, build_first_ts, build_last_ts
         FROM funnels WHERE project_id = $1";
    let rows: Vec<Row> = db.all(sql, (project_id,)).await?;
    Ok(rows
        .into_iter()
        .map(|(id, phase, ts, person, first, last)| {
            (id, BuildState::of_row(phase, ts, person, first, last))
        })
        .collect())
}

/// `(project, funnel)` of every funnel not yet built, oldest edit first.
pub async fn pending(db: &Db) -> StoreResult<Vec<(String, String)>> {
    let sql = "SELECT project_id, id FROM funnels WHERE build_phase <> 3 ORDER BY updated_at, id";
    db.all(sql, ()).await
}
