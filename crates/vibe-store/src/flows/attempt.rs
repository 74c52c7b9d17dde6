//! The attempt logic, in one place: ingest (`flows::ingest`) and the rebuild
//! (`flows::write::rebuild`) feed each person's matching events to
//! [`advance`] in `(ts, id)` order and fold the [`Change`]s into day rows.
//! Definitions: docs/metrics.md, "Flows".

use std::collections::BTreeMap;

use vibe_core::day::ProjectTz;

use super::model::Flow;
use crate::funnel::FunnelStep;

pub const HOUR_MS: i64 = 3_600_000;

/// Growth of a duration bucket's edges: each bucket is 10 % wider than the last.
pub const BUCKET_GROWTH: f64 = 1.1;

/// The duration bucket of `ms`: 0 for under one second, else `k ≥ 1` for
/// `[1.1^(k−1), 1.1^k)` seconds.
pub fn bucket_of(ms: i64) -> i64 {
    if ms < 1000 {
        return 0;
    }
    let k = ((ms as f64 / 1000.0).ln() / BUCKET_GROWTH.ln()).floor() as i64 + 1;
    k.max(1)
}

/// What a bucket reports, in seconds: its geometric midpoint `1.1^(k−½)`
/// (0.5 s for bucket 0).
pub fn bucket_seconds(bucket: i64) -> f64 {
    if bucket <= 0 {
        return 0.5;
    }
    BUCKET_GROWTH.powf(bucket as f64 - 0.5)
}

/// The median of a histogram of `(bucket, n)`: the midpoint of the bucket
/// holding the middle value (the lower middle one of an even count).
pub fn median_seconds(buckets: &[(i64, i64)]) -> Option<f64> {
    let total: i64 = buckets.iter().map(|(_, n)| *n).sum();
    if total <= 0 {
        return None;
    }
    let rank = (total + 1) / 2;
    let mut sorted = buckets.to_vec();
    sorted.sort_unstable();
    let mut seen = 0;
    for (b, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(bucket_seconds(b));
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Completed,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            _ => Self::Open,
        }
    }
}

/// A person's latest attempt of a flow (a `flow_attempts` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub started_at: i64,
    pub outcome: Outcome,
    /// When it completed or failed; 0 while open.
    pub ended_at: i64,
}

/// What an event did to the rollup: an attempt started, or one that started
/// at `started_at` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Started { at: i64 },
    Completed { started_at: i64, at: i64 },
    Failed { started_at: i64, at: i64 },
}

/// A flow's steps and window, as matched against events.
#[derive(Debug, Clone)]
pub struct FlowDef {
    pub project_id: String,
    pub id: String,
    pub start: FunnelStep,
    pub complete: FunnelStep,
    pub fail: Option<FunnelStep>,
    pub window_ms: i64,
}

/// Which of a flow's steps one event matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matches {
    pub start: bool,
    pub complete: bool,
    pub fail: bool,
}

impl Matches {
    pub fn any(self) -> bool {
        self.start || self.complete || self.fail
    }
}

impl FlowDef {
    pub fn of(project_id: &str, f: &Flow) -> Self {
        Self {
            project_id: project_id.to_owned(),
            id: f.id.clone(),
            start: f.start.clone(),
            complete: f.complete.clone(),
            fail: f.fail.clone(),
            window_ms: f.window_hours.saturating_mul(HOUR_MS),
        }
    }

    pub fn matches(&self, kind: &str, path: Option<&str>, name: Option<&str>) -> Matches {
        Matches {
            start: self.start.matches(kind, path, name),
            complete: self.complete.matches(kind, path, name),
            fail: self
                .fail
                .as_ref()
                .is_some_and(|s| s.matches(kind, path, name)),
        }
    }

    /// The steps, for the SQL that selects matching events.
    pub fn steps(&self) -> Vec<&FunnelStep> {
        let mut out = vec![&self.start, &self.complete];
        out.extend(self.fail.as_ref());
        out
    }
}

/// Applies one event (at `ts`, matching `m`) to a person's latest attempt.
///
/// - A start opens an attempt unless one is open and `ts` is within its
///   window (then it is the same attempt).
/// - Within the window of the open attempt (the starting event included), a
///   complete match ends it completed, else a fail match ends it failed.
/// - An event older than the attempt's latest known time (its start while
///   open, its end once ended) arrived late: it changes nothing here (the
///   rebuild places it exactly).
pub fn advance(
    state: &mut Option<Attempt>,
    window_ms: i64,
    ts: i64,
    m: Matches,
) -> Option<[Option<Change>; 2]> {
    if !m.any() {
        return None;
    }
    if let Some(a) = state {
        let latest = if a.outcome == Outcome::Open {
            a.started_at
        } else {
            a.ended_at
        };
        if ts < latest {
            return None;
        }
    }
    let mut started = None;
    let open = state
        .filter(|a| a.outcome == Outcome::Open && ts <= a.started_at.saturating_add(window_ms));
    let mut attempt = match open {
        Some(a) => a,
        None if m.start => {
            started = Some(Change::Started { at: ts });
            Attempt {
                started_at: ts,
                outcome: Outcome::Open,
                ended_at: 0,
            }
        }
        None => return None,
    };
    let ended = if m.complete {
        attempt.outcome = Outcome::Completed;
        attempt.ended_at = ts;
        Some(Change::Completed {
            started_at: attempt.started_at,
            at: ts,
        })
    } else if m.fail {
        attempt.outcome = Outcome::Failed;
        attempt.ended_at = ts;
        Some(Change::Failed {
            started_at: attempt.started_at,
            at: ts,
        })
    } else {
        None
    };
    if started.is_none() && ended.is_none() {
        return None;
    }
    *state = Some(attempt);
    Some([started, ended])
}

/// One `flow_days` row's counters as a batch or rebuild adds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub started: i64,
    pub completed: i64,
    pub failed: i64,
    pub completion_ms: i64,
}

/// Day rows keyed by `(flow id, local day)` and duration buckets keyed by
/// `(flow id, day, bucket)`: what [`Change`]s add up to.
#[derive(Debug, Default)]
pub struct DayDeltas {
    pub days: BTreeMap<(String, String), DayCounts>,
    pub durations: BTreeMap<(String, String, i64), i64>,
}

impl DayDeltas {
    /// Counts a change on the local day its attempt started.
    pub fn add(&mut self, flow_id: &str, tz: &ProjectTz, c: Change) {
        let (started_at, counts) = match c {
            Change::Started { at } => (at, (1, 0, 0, 0)),
            Change::Completed { started_at, at } => (started_at, (0, 1, 0, at - started_at)),
            Change::Failed { started_at, .. } => (started_at, (0, 0, 1, 0)),
        };
        let day = tz.day_of(started_at);
        if let Change::Completed { started_at, at } = c {
            *self
                .durations
                .entry((flow_id.to_owned(), day.clone(), bucket_of(at - started_at)))
                .or_default() += 1;
        }
        let d = self.days.entry((flow_id.to_owned(), day)).or_default();
        d.started += counts.0;
        d.completed += counts.1;
        d.failed += counts.2;
        d.completion_ms += counts.3;
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.durations.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = 10;
    fn m(start: bool, complete: bool, fail: bool) -> Matches {
        Matches {
            start,
            complete,
            fail,
        }
    }
    const S: Matches = Matches {
        start: true,
        complete: false,
        fail: false,
    };
    const C: Matches = Matches {
        start: false,
        complete: true,
        fail: false,
    };
    const F: Matches = Matches {
        start: false,
        complete: false,
        fail: true,
    };

    fn run(events: &[(i64, Matches)]) -> (Vec<Change>, Option<Attempt>) {
        let mut state = None;
        let mut out = Vec::new();
        for (ts, mm) in events {
            if let Some(cs) = advance(&mut state, W, *ts, *mm) {
                out.extend(cs.into_iter().flatten());
            }
        }
        (out, state)
    }

    #[test]
    fn attempts_open_end_and_expire() {
        use Change::*;
        let (c, _) = run(&[
            (0, S),
            (3, S),
            (5, C),
            (6, C),
            (20, S),
            (40, C),
            (41, S),
            (42, F),
        ]);
        assert_eq!(
            c,
            [
                Started { at: 0 },
                Completed {
                    started_at: 0,
                    at: 5
                },
                Started { at: 20 },
                // 40 is past 20's window: abandoned; 41 opens a new one.
                Started { at: 41 },
                Failed {
                    started_at: 41,
                    at: 42
                },
            ]
        );
        // Complete and fail on one event: complete wins; the starting event counts.
        let (c, s) = run(&[(0, m(true, true, true))]);
        assert_eq!(
            c,
            [
                Started { at: 0 },
                Completed {
                    started_at: 0,
                    at: 0
                }
            ]
        );
        assert_eq!(s.unwrap().outcome, Outcome::Completed);
        // A completion exactly at the window's end counts; a late event is ignored.
        let (c, _) = run(&[(5, S), (15, C), (7, C)]);
        assert_eq!(
            c,
            [
                Started { at: 5 },
                Completed {
                    started_at: 5,
                    at: 15
                }
            ]
        );
        // A complete without an attempt does nothing.
        assert_eq!(run(&[(1, C), (2, F)]).0, []);
    }

    #[test]
    fn buckets_grow_ten_percent_and_median_is_the_midpoint() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(999), 0);
        assert_eq!(bucket_of(1000), 1);
        assert_eq!(bucket_of(1099), 1);
        assert_eq!(bucket_of(1101), 2);
        let b = bucket_of(20_000);
        let mid = bucket_seconds(b);
        assert!((mid - 20.0).abs() / 20.0 < 0.05, "{mid}");
        assert_eq!(median_seconds(&[]), None);
        let m = median_seconds(&[(bucket_of(10_000), 1), (b, 1), (bucket_of(30_000), 1)]);
        assert_eq!(m, Some(mid));
    }
}
