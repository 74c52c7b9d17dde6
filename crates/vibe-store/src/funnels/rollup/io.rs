//! Writing the funnel rollup, once for both backends: what an ingest batch's
//! [`FunnelWork`] and a one-shot rebuild do, in order. The backend's
//! [`FunnelIo`] runs the statements (multi-row shapes and arrays differ).

use super::{
    hits_of_events, reach_rows, replace_reach, sort_hits, FunnelDef, FunnelHit, FunnelReach,
    FunnelWork, HourDeltas, PersonMove,
};
use crate::db::{Arg, TxExec};
use crate::funnel::{Funnel, FunnelEvent};
use crate::StoreResult;

/// Moves all hits of person `$4` to `$1` in funnel `$3` of project `$2`.
pub const MERGE_HITS: &str =
    "UPDATE funnel_hits SET person = $1 WHERE project_id = $2 AND funnel_id = $3 AND person = $4";
/// Like [`MERGE_HITS`], for the hits of one device (`$5`).
pub const REPOINT_HITS: &str = "UPDATE funnel_hits SET person = $1 WHERE project_id = $2 AND funnel_id = $3 AND person = $4 AND anonymous_id = $5";

/// The funnel rollup's statements on one backend's open transaction.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait FunnelIo: TxExec {
    /// Runs [`MERGE_HITS`] or [`REPOINT_HITS`].
    async fn move_hits(&mut self, statement: &str, args: &[Arg<'_>]) -> StoreResult<()> {
        self.execute(statement, args).await.map(drop)
    }
    async fn insert_hits(&mut self, funnels: &[FunnelDef], hits: &[FunnelHit]) -> StoreResult<()>;
    /// Hits of these people from `since` on, sorted as `reach_rows` expects.
    async fn read_hits(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
        since: i64,
    ) -> StoreResult<Vec<FunnelHit>>;
    /// Every reach row of these people.
    async fn read_reach(
        &mut self,
        def: &FunnelDef,
        people: &[&str],
    ) -> StoreResult<Vec<FunnelReach>>;
    async fn delete_reach(&mut self, def: &FunnelDef, people: &[&str]) -> StoreResult<()>;
    async fn write_reach(&mut self, def: &FunnelDef, rows: &[FunnelReach]) -> StoreResult<()>;
    async fn write_hours(&mut self, def: &FunnelDef, deltas: &HourDeltas) -> StoreResult<()>;
    /// Events in `[from, to]` matching a step, with their person resolved now.
    async fn matching_events(
        &mut self,
        def: &FunnelDef,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<FunnelEvent>>;
    /// Empties one funnel's rollup and marks it ready, serialised with ingest.
    async fn clear_for_rebuild(&mut self, project_id: &str, funnel_id: &str) -> StoreResult<()>;
}

/// Applies one ingest batch's funnel work (see `FunnelWork::plan`).
pub async fn apply<I: FunnelIo>(
    io: &mut I,
    funnels: &[FunnelDef],
    moves: &[PersonMove],
    work: &FunnelWork,
) -> StoreResult<()> {
    for mv in moves {
        for f in funnels {
            if f.project_id != mv.project_id() {
                continue;
            }
            let (project, funnel) = (Arg::from(&f.project_id), Arg::from(&f.id));
            match mv {
                PersonMove::Merge { from, into, .. } => {
                    let args = [into.into(), project, funnel, from.into()];
                    io.move_hits(MERGE_HITS, &args).await?;
                }
                PersonMove::Repoint {
                    anonymous_id,
                    from,
                    to,
                    ..
                } => {
                    let args = [to.into(), project, funnel, from.into(), anonymous_id.into()];
                    io.move_hits(REPOINT_HITS, &args).await?;
                }
            }
        }
    }
    io.insert_hits(funnels, &work.hits).await?;
    for (funnel_id, (full, incremental, since)) in work.by_funnel() {
        let Some(def) = funnels.iter().find(|f| f.id == funnel_id) else {
            continue;
        };
        for (people, since, keep_later) in [(full, i64::MIN, false), (incremental, since, true)] {
            if people.is_empty() {
                continue;
            }
            let old = io.read_reach(def, &people).await?;
            let hits = io.read_hits(def, &people, since).await?;
            let (rows, deltas) = replace_reach(&old, reach_rows(def, &hits, since), keep_later);
            io.delete_reach(def, &people).await?;
            io.write_reach(def, &rows).await?;
            io.write_hours(def, &deltas).await?;
        }
    }
    Ok(())
}

/// Recomputes one funnel's rollup from stored events and marks it ready.
pub async fn rebuild<I: FunnelIo>(io: &mut I, project_id: &str, f: &Funnel) -> StoreResult<()> {
    io.clear_for_rebuild(project_id, &f.id).await?;
    if f.steps.is_empty() {
        return Ok(());
    }
    let def = FunnelDef::of(project_id, f);
    let events = io.matching_events(&def, i64::MIN, i64::MAX).await?;
    let mut hits = hits_of_events(&def, &events);
    drop(events);
    sort_hits(&mut hits);
    io.insert_hits(std::slice::from_ref(&def), &hits).await?;
    let (rows, deltas) = replace_reach(&[], reach_rows(&def, &hits, i64::MIN), false);
    io.write_reach(&def, &rows).await?;
    io.write_hours(&def, &deltas).await
}

/// A build's scan chunk: the hits of the events in `(after, until]`.
pub async fn scan<I: FunnelIo>(
    io: &mut I,
    def: &FunnelDef,
    after: i64,
    until: Option<i64>,
) -> StoreResult<()> {
    if def.steps.is_empty() {
        return Ok(());
    }
    let (from, to) = (after.saturating_add(1), until.unwrap_or(i64::MAX));
    let events = io.matching_events(def, from, to).await?;
    let hits = hits_of_events(def, &events);
    io.insert_hits(std::slice::from_ref(def), &hits).await
}

/// A build's reach chunk: these people recomputed fully from their hits.
pub async fn recompute<I: FunnelIo>(
    io: &mut I,
    def: &FunnelDef,
    people: &[String],
) -> StoreResult<()> {
    let work = FunnelWork {
        full: people.iter().map(|p| (def.id.clone(), p.clone())).collect(),
        ..FunnelWork::default()
    };
    apply(io, std::slice::from_ref(def), &[], &work).await
}
