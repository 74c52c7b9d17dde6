//! Records of the features domain: feature usage and AI token usage, read
//! from their rollups.

use serde::Serialize;

/// One custom event name over a range of days (before the server adds the
/// share of active people and fills the daily series).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureTotal {
    pub name: String,
    pub total: i64,
    pub unique_people: i64,
    /// `(day, events)` for the days with events, oldest first.
    pub daily: Vec<(String, i64)>,
}

/// Feature usage of a range: every custom event name, most used first, and
/// how many people were active at all (the share's denominator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureUsage {
    pub features: Vec<FeatureTotal>,
    pub active_people: i64,
}

/// One person's use of one custom event name (`person_features`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PersonFeature {
    pub name: String,
    pub events: i64,
    pub first_ts: i64,
    pub last_ts: i64,
}

/// Sums of `ai_usage` events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AiTotals {
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Millionths of a US dollar.
    pub cost_micro_usd: i64,
}

impl AiTotals {
    pub fn total_tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AiByModel {
    pub model: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub totals: AiTotals,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AiByDay {
    pub day: String,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub totals: AiTotals,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AiByUser {
    /// The person (`site_users.id`).
    pub site_user_id: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub totals: AiTotals,
}

/// AI usage of a range of days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AiUsageReport {
    pub totals: AiTotals,
    pub by_model: Vec<AiByModel>,
    /// One page of people, most tokens first.
    pub by_user: Vec<AiByUser>,
    /// When the page's figures were computed (now, or a snapshot's time).
    pub by_user_as_of_ms: i64,
    /// How many people used AI in the range (for paging `by_user`).
    pub users: i64,
    pub daily: Vec<AiByDay>,
}

/// One person's AI usage, all time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonAiUsage {
    pub totals: AiTotals,
    pub by_model: Vec<AiByModel>,
}

/// Every row of the feature rollups of a project, sorted, for tests comparing
/// the incremental path with a rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureRollups {
    pub days: Vec<(String, String, i64)>,
    pub user_days: Vec<(String, String, String)>,
    pub people: Vec<(String, String, i64, i64, i64)>,
    pub ai: Vec<AiRow>,
    /// `ai_model_days`: day, model, calls, prompt, completion, cost.
    pub ai_models: Vec<(String, String, i64, i64, i64, i64)>,
}

/// One `ai_usage_days` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow)]
pub struct AiRow {
    pub day: String,
    pub model: String,
    pub site_user_id: String,
    pub calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost_micro_usd: i64,
}
