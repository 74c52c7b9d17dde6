//! Flow records: the definition and what the stats read returns.

use serde::Serialize;

use crate::funnel::FunnelStep;

/// A flow: attempts open at a `start` match and end at the first `complete`
/// (or `fail`) match within `window_hours` (docs/metrics.md, "Flows").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub id: String,
    pub name: String,
    pub start: FunnelStep,
    pub complete: FunnelStep,
    pub fail: Option<FunnelStep>,
    pub window_hours: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Flow {
    /// The steps as the JSON text columns store them.
    pub fn step_columns(&self) -> (String, String, Option<String>) {
        let json = |s: &FunnelStep| serde_json::to_string(s).unwrap_or_else(|_| "{}".into());
        (
            json(&self.start),
            json(&self.complete),
            self.fail.as_ref().map(json),
        )
    }
}

/// Row shape of `flows`; the steps are JSON text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlowRow {
    pub id: String,
    pub name: String,
    pub start_step: String,
    pub complete_step: String,
    pub fail_step: Option<String>,
    pub window_hours: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A stored step that no longer parses never matches (it was validated when
/// saved, so this only guards against hand-edited rows).
pub(crate) fn parse_step(text: &str) -> FunnelStep {
    serde_json::from_str(text).unwrap_or(FunnelStep {
        kind: crate::funnel::StepMatch::Event,
        value: String::new(),
        prefix: false,
        name: None,
    })
}

impl From<FlowRow> for Flow {
    fn from(r: FlowRow) -> Self {
        Self {
            start: parse_step(&r.start_step),
            complete: parse_step(&r.complete_step),
            fail: r.fail_step.as_deref().map(parse_step),
            id: r.id,
            name: r.name,
            window_hours: r.window_hours,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One `flow_days` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct FlowDay {
    pub day: String,
    pub started: i64,
    pub completed: i64,
    pub failed: i64,
    pub completion_ms_sum: i64,
}

/// What the stats of a range of days are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowDays {
    /// Days with attempts, oldest first.
    pub days: Vec<FlowDay>,
    /// `(bucket, completed attempts)` over the range, by bucket.
    pub durations: Vec<(i64, i64)>,
}

/// One `flow_attempts` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttemptRow {
    pub site_user_id: String,
    pub flow_id: String,
    pub started_at: i64,
    pub outcome: String,
    pub ended_at: i64,
}

/// Every rollup row of one flow, for tests comparing rebuild with ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRollups {
    pub attempts: Vec<AttemptRow>,
    pub days: Vec<FlowDay>,
    /// `(day, bucket, n)`.
    pub durations: Vec<(String, i64, i64)>,
}
