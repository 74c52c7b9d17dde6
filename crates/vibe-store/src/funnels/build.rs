//! Building a funnel's rollup in the background (docs/architecture.md, "Funnel
//! builds"). Creating or editing a funnel only stores the definition and marks it
//! building; a builder task on the scheduling node then calls
//! `Store::build_funnel_chunk` until the funnel is ready. Each chunk is one short
//! transaction serialised with ingest (SQLite: the writer connection; PostgreSQL:
//! table locks), so ingest waits milliseconds, not minutes.
//!
//! Phases, stored on the funnel row (`build_phase` and cursors):
//! 1. `Clear` (after an edit or a migration): delete the funnel's rollup rows, at
//!    most `chunk` per table per transaction, until one transaction empties them.
//! 2. `Hits`: scan the project's events in ts order, `chunk` events per
//!    transaction (all events of the boundary ts included), inserting hits under
//!    each event's person as resolved in that transaction; `build_ts` is the last
//!    ts scanned, so a restart resumes.
//! 3. `Reach`: recompute every person with hits from all their hits, people in
//!    order after `build_person`; then `Ready`.
//!
//! Ingest is unchanged: it adds hits, moves them and updates reach for building
//! funnels as for ready ones. Why that is exact is in the architecture doc.

pub mod io;

use std::time::Duration;

/// Where a funnel's build stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Clear,
    Hits,
    Reach,
    Ready,
}

impl Phase {
    pub fn code(self) -> i64 {
        match self {
            Self::Clear => 0,
            Self::Hits => 1,
            Self::Reach => 2,
            Self::Ready => 3,
        }
    }

    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Clear,
            1 => Self::Hits,
            2 => Self::Reach,
            _ => Self::Ready,
        }
    }
}

/// The build columns of a funnel row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildState {
    pub phase: Phase,
    /// `Hits`: events with `ts <= scanned_to` have their hits.
    pub scanned_to: Option<i64>,
    /// `Reach`: people `<= person` (database order) are recomputed.
    pub person: Option<String>,
    /// Earliest and latest event time when the scan started (progress only).
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

impl BuildState {
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// `"building"` or `"ready"`, as the API shows it.
    pub fn status(&self) -> &'static str {
        if self.is_ready() {
            "ready"
        } else {
            "building"
        }
    }

    /// A rough percentage: the event scan is most of the work and is measured by
    /// how far its time cursor got; clearing counts as 0, recomputing people as 90.
    pub fn progress_pct(&self) -> i64 {
        match self.phase {
            Phase::Clear => 0,
            Phase::Ready => 100,
            Phase::Reach => 90,
            Phase::Hits => match (self.scanned_to, self.first_ts, self.last_ts) {
                (Some(at), Some(first), Some(last)) if last > first => {
                    let done = (at.clamp(first, last) - first) as f64 / (last - first) as f64;
                    (done * 89.0) as i64
                }
                _ => 0,
            },
        }
    }
}

/// What one `build_funnel_chunk` call did.
#[derive(Debug, Clone)]
pub struct ChunkDone {
    /// The state after the chunk; `None` when the funnel no longer exists.
    pub state: Option<BuildState>,
    /// How long the chunk's transaction held the write side (SQLite writer or
    /// PostgreSQL table locks), from begin to commit.
    pub held: Duration,
}

/// People recomputed per reach chunk, for a chunk size given in events: a person
/// has tens of hits over a month, and recomputing reads all of them (measured:
/// 100 people cost about as much as a 5 000-event scan chunk).
pub fn people_per_chunk(chunk: usize) -> usize {
    (chunk / 50).max(1)
}
