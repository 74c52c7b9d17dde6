//! The funnel rollup kept current at ingest, so that conversion reads one index
//! entry per person and step instead of every matching event (docs/metrics.md,
//! "Funnels"). Backends store two tables:
//!
//! - `funnel_hits`: every stored event that matches a step of a funnel, under the
//!   person it belongs to now (merges and re-pointed devices move hits);
//! - `funnel_reach`: per funnel, person and `step` k, the latest step-1 time of an
//!   attempt that reached at least k steps.
//!
//! The API's periods always end now, so "entered in `[from, now]` and reached k
//! steps" is exactly `last_start >= from`: the latest qualifying attempt is in the
//! period if any is. Greedy in-order matching never loses a step when an event is
//! added, so a `last_start` only grows while events arrive; what can shrink it is a
//! person moving (merge, re-pointed device), and then the person is recomputed.

pub mod io;

use std::collections::{BTreeMap, BTreeSet};

use crate::funnel::{Funnel, FunnelEvent, FunnelStep};
use crate::ingest::Resolved;

/// A funnel as the write path needs it.
#[derive(Debug, Clone)]
pub struct FunnelDef {
    pub id: String,
    pub project_id: String,
    pub steps: Vec<FunnelStep>,
    pub window_ms: i64,
}

impl FunnelDef {
    /// A funnel as stored: `steps` is its JSON, the window in days.
    pub fn stored(id: &str, project_id: &str, steps: &str, window_days: i64) -> Self {
        Self {
            id: id.to_owned(),
            project_id: project_id.to_owned(),
            steps: serde_json::from_str::<Vec<FunnelStep>>(steps).unwrap_or_default(),
            window_ms: window_days * 86_400_000,
        }
    }

    pub fn of(project_id: &str, f: &Funnel) -> Self {
        Self {
            id: f.id.clone(),
            project_id: project_id.to_owned(),
            steps: f.steps.clone(),
            window_ms: f.window_days * 86_400_000,
        }
    }

    /// Bit `i` set when the event matches step `i`; 0 when it matches none.
    pub fn mask(&self, kind: &str, path: Option<&str>, name: Option<&str>) -> i64 {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.matches(kind, path, name))
            .fold(0, |m, (i, _)| m | (1 << i))
    }
}

/// One row of `funnel_hits`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FunnelHit {
    pub funnel_id: String,
    pub person: String,
    pub ts: i64,
    pub event_id: String,
    pub anonymous_id: Option<String>,
    pub steps: i64,
}

/// A [`FunnelHit`]'s columns, in field order (as a backend reads them).
pub type HitColumns = (String, String, i64, String, Option<String>, i64);

impl From<HitColumns> for FunnelHit {
    fn from((funnel_id, person, ts, event_id, anonymous_id, steps): HitColumns) -> Self {
        Self {
            funnel_id,
            person,
            ts,
            event_id,
            anonymous_id,
            steps,
        }
    }
}

/// One row of `funnel_reach`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelReach {
    pub funnel_id: String,
    pub person: String,
    pub step: i64,
    pub last_start: i64,
}

/// `funnel_reach_hours` buckets `last_start` by hour, so that counting the people
/// of a period reads one row per hour and step, plus the rows of the one hour the
/// period starts in.
pub const HOUR_MS: i64 = 3_600_000;

pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS)
}

/// How `funnel_reach_hours` moves when `old` rows are replaced by `new` ones:
/// (step, hour) → change in people.
pub type HourDeltas = BTreeMap<(i64, i64), i64>;

/// The rows that replace `old` (all rows of the people concerned) and the hour
/// deltas. `computed` holds the recomputed rows; with `keep_later`, a stored later
/// start wins (incremental updates recompute only attempts from some time on).
pub fn replace_reach(
    old: &[FunnelReach],
    computed: Vec<FunnelReach>,
    keep_later: bool,
) -> (Vec<FunnelReach>, HourDeltas) {
    let mut rows: BTreeMap<(String, i64), FunnelReach> = BTreeMap::new();
    if keep_later {
        for r in old {
            rows.insert((r.person.clone(), r.step), r.clone());
        }
    }
    for r in computed {
        let slot = rows
            .entry((r.person.clone(), r.step))
            .or_insert_with(|| r.clone());
        slot.last_start = slot.last_start.max(r.last_start);
    }
    let mut deltas = HourDeltas::new();
    for r in old {
        *deltas.entry((r.step, hour_of(r.last_start))).or_default() -= 1;
    }
    for r in rows.values() {
        *deltas.entry((r.step, hour_of(r.last_start))).or_default() += 1;
    }
    deltas.retain(|_, d| *d != 0);
    (rows.into_values().collect(), deltas)
}

/// People per step count from the whole hours after `from_ms` (`(step, people)`
/// from the buckets) and the rows of `from_ms`'s own hour at or after it.
pub fn sum_counts(whole_hours: &[(i64, i64)], first_hour: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut by_step: BTreeMap<i64, i64> = BTreeMap::new();
    for (step, n) in whole_hours.iter().chain(first_hour) {
        *by_step.entry(*step).or_default() += n;
    }
    by_step.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// A change of who owns past events, made while resolving identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonMove {
    /// Every event of `from` now belongs to `into`.
    Merge {
        project_id: String,
        from: String,
        into: String,
    },
    /// The events of one device (`anonymous_id`) moved from `from` to `to`.
    Repoint {
        project_id: String,
        anonymous_id: String,
        from: String,
        to: String,
    },
}

impl PersonMove {
    pub fn project_id(&self) -> &str {
        match self {
            Self::Merge { project_id, .. } | Self::Repoint { project_id, .. } => project_id,
        }
    }
}

/// For one person's hits of one funnel, sorted by `(ts, event_id)`: for each k in
/// `1..=steps`, the latest start at or after `since` of an attempt reaching ≥ k
/// steps. Attempts follow `funnel::conversion`: from a step-1 hit, later hits
/// advance one step each when they match the next step, until the window closes.
pub fn latest_starts(
    steps: usize,
    window_ms: i64,
    hits: &[(i64, i64)],
    since: i64,
) -> Vec<Option<i64>> {
    let mut latest = vec![None; steps];
    let mut unset = steps;
    for i in (0..hits.len()).rev() {
        let (start, mask) = hits[i];
        if start < since || unset == 0 {
            break;
        }
        if mask & 1 == 0 {
            continue;
        }
        let deadline = start + window_ms;
        let mut reached = 1;
        for &(ts, m) in &hits[i + 1..] {
            if reached == steps || ts > deadline {
                break;
            }
            if m & (1 << reached) != 0 {
                reached += 1;
            }
        }
        for slot in latest.iter_mut().take(reached) {
            if slot.is_none() {
                *slot = Some(start);
                unset -= 1;
            }
        }
    }
    latest
}

/// `funnel_reach` rows for the hits of one funnel, grouped by person and sorted
/// by `(ts, event_id)` within each person.
pub fn reach_rows(def: &FunnelDef, hits: &[FunnelHit], since: i64) -> Vec<FunnelReach> {
    let mut rows = Vec::new();
    for person_hits in hits.chunk_by(|a, b| a.person == b.person) {
        let pairs: Vec<(i64, i64)> = person_hits.iter().map(|h| (h.ts, h.steps)).collect();
        for (k, start) in latest_starts(def.steps.len(), def.window_ms, &pairs, since)
            .into_iter()
            .enumerate()
        {
            if let Some(last_start) = start {
                rows.push(FunnelReach {
                    funnel_id: def.id.clone(),
                    person: person_hits[0].person.clone(),
                    step: k as i64 + 1,
                    last_start,
                });
            }
        }
    }
    rows
}

/// Sorts hits by person, then `(ts, event_id)`, as `reach_rows` expects.
pub fn sort_hits(hits: &mut [FunnelHit]) {
    hits.sort_by(|a, b| (&a.person, a.ts, &a.event_id).cmp(&(&b.person, b.ts, &b.event_id)));
}

/// Hits of events read back from storage (rebuilding a funnel).
pub fn hits_of_events(def: &FunnelDef, events: &[FunnelEvent]) -> Vec<FunnelHit> {
    events
        .iter()
        .filter_map(|e| {
            let steps = def.mask(&e.kind, e.path.as_deref(), e.name.as_deref());
            (steps != 0).then(|| FunnelHit {
                funnel_id: def.id.clone(),
                person: e.person.clone(),
                ts: e.ts,
                event_id: e.id.clone(),
                anonymous_id: e.anonymous_id.clone(),
                steps,
            })
        })
        .collect()
}

/// What one ingest batch does to the funnel rollup.
#[derive(Debug, Default)]
pub struct FunnelWork {
    /// New rows for `funnel_hits`.
    pub hits: Vec<FunnelHit>,
    /// (funnel, person) to recompute from all their hits.
    pub full: BTreeSet<(String, String)>,
    /// (funnel, person) → earliest start an attempt affected by new hits can have.
    pub incremental: BTreeMap<(String, String), i64>,
}

impl FunnelWork {
    /// Plans the work for freshly stored messages (`resolved`, not retries) and the
    /// identity moves made in the same batch. The caller applies each move to
    /// `funnel_hits` of the move's project funnels before recomputing.
    pub fn plan(funnels: &[FunnelDef], resolved: &[Resolved<'_>], moves: &[PersonMove]) -> Self {
        let mut work = Self::default();
        if funnels.is_empty() {
            return work;
        }
        for mv in moves {
            for f in funnels.iter().filter(|f| f.project_id == mv.project_id()) {
                match mv {
                    PersonMove::Merge { from, into, .. } => {
                        // `from` has no hits left: recomputing clears its rows.
                        work.full.insert((f.id.clone(), from.clone()));
                        work.full.insert((f.id.clone(), into.clone()));
                    }
                    PersonMove::Repoint { from, to, .. } => {
                        work.full.insert((f.id.clone(), from.clone()));
                        work.full.insert((f.id.clone(), to.clone()));
                    }
                }
            }
        }
        for r in resolved {
            let m = r.msg;
            if !m.kind.is_stored_event() {
                continue;
            }
            for f in funnels.iter().filter(|f| f.project_id == r.project_id) {
                let steps = f.mask(m.kind.as_str(), m.path.as_deref(), m.name.as_deref());
                if steps == 0 {
                    continue;
                }
                work.hits.push(FunnelHit {
                    funnel_id: f.id.clone(),
                    person: r.person_id.to_owned(),
                    ts: m.ts,
                    event_id: m.id.clone(),
                    anonymous_id: m.anonymous_id.clone(),
                    steps,
                });
                let since = work
                    .incremental
                    .entry((f.id.clone(), r.person_id.to_owned()))
                    .or_insert(i64::MAX);
                *since = (*since).min(m.ts.saturating_sub(f.window_ms));
            }
        }
        let full = &work.full;
        work.incremental.retain(|k, _| !full.contains(k));
        work
    }

    pub fn is_empty(&self) -> bool {
        self.hits.is_empty() && self.full.is_empty() && self.incremental.is_empty()
    }

    /// Per funnel: persons to recompute fully, and persons to update from a time on
    /// (with the earliest such time, which is safe for all of them: reading more
    /// hits than needed only recomputes attempts whose values are already stored).
    pub fn by_funnel(&self) -> BTreeMap<&str, (Vec<&str>, Vec<&str>, i64)> {
        let mut out: BTreeMap<&str, (Vec<&str>, Vec<&str>, i64)> = BTreeMap::new();
        for (f, p) in &self.full {
            out.entry(f).or_insert((vec![], vec![], i64::MAX)).0.push(p);
        }
        for ((f, p), since) in &self.incremental {
            let e = out.entry(f).or_insert((vec![], vec![], i64::MAX));
            e.1.push(p);
            e.2 = e.2.min(*since);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_starts_follow_order_and_window() {
        // steps: 1 = bit 0, 2 = bit 1, 3 = bit 2
        let hits = [(0, 1), (5, 2), (6, 4), (100, 1), (101, 4), (200, 1)];
        assert_eq!(
            latest_starts(3, 50, &hits, i64::MIN),
            vec![Some(200), Some(0), Some(0)]
        );
        // From 50 on only the later attempts count, and none reaches step 2.
        assert_eq!(latest_starts(3, 50, &hits, 50), vec![Some(200), None, None]);
        // A window of 5 closes before step 3 at 6.
        assert_eq!(
            latest_starts(3, 5, &hits, i64::MIN),
            vec![Some(200), Some(0), None]
        );
    }

    #[test]
    fn replacing_rows_moves_hour_buckets() {
        let row = |p: &str, step, last_start| FunnelReach {
            funnel_id: "f".into(),
            person: p.into(),
            step,
            last_start,
        };
        let old = [row("a", 1, 10), row("a", 2, 10), row("b", 1, HOUR_MS + 5)];
        // Incremental: a's step 1 moves to a later hour, step 2 stays; b untouched.
        let (rows, deltas) = replace_reach(&old, vec![row("a", 1, 2 * HOUR_MS)], true);
        assert_eq!(rows.len(), 3);
        assert_eq!(deltas, HourDeltas::from([((1, 0), -1), ((1, 2), 1)]));
        // Full: rows not recomputed disappear.
        let (rows, deltas) = replace_reach(&old[..2], vec![], false);
        assert!(rows.is_empty());
        assert_eq!(deltas, HourDeltas::from([((1, 0), -1), ((2, 0), -1)]));
        assert_eq!(
            sum_counts(&[(1, 3), (2, 1)], &[(1, 1)]),
            vec![(1, 4), (2, 1)]
        );
    }

    #[test]
    fn one_event_advances_one_step() {
        // The event at 1 matches steps 1 and 2: it starts an attempt and can be step 2
        // of the attempt started at 0, not both steps of one attempt.
        let hits = [(0, 1), (1, 3)];
        assert_eq!(
            latest_starts(2, 10, &hits, i64::MIN),
            vec![Some(1), Some(0)]
        );
    }
}
