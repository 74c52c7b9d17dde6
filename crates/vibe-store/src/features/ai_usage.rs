//! AI token usage: reads of `ai_model_days` (totals, models, days),
//! `ai_usage_days` (the people page — see [`super::ai_people`] — and profiles) and the `ai` sketches of
//! `unique_days` (distinct people), which ingest fills from the reserved
//! `ai_usage` event (validated in `vibe_core::reserved::ai_usage`).

use async_trait::async_trait;

use super::ai_people::{self, PeoplePolicy};
use super::model::{AiByModel, AiTotals, AiUsageReport, PersonAiUsage};
use crate::db::HasDb;
use crate::StoreResult;

/// The sums of `ai_usage_days` / `ai_model_days` rows, in `AiTotals` order.
pub(super) const SUMS: &str = "CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS calls,
     CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
     CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens,
     CAST(COALESCE(SUM(cost_micro_usd), 0) AS BIGINT) AS cost_micro_usd";
/// Totals, models and days read the per-day-model sums (days × models rows).
const MODEL_RANGE: &str = "FROM ai_model_days WHERE project_id = $1 AND day >= $2 AND day <= $3";

fn totals_sql() -> String {
    format!("SELECT {SUMS} {MODEL_RANGE}")
}
fn by_model_sql() -> String {
    format!("SELECT model, {SUMS} {MODEL_RANGE} GROUP BY model ORDER BY CAST(SUM(prompt_tokens) + SUM(completion_tokens) AS BIGINT) DESC, model")
}
fn daily_sql() -> String {
    format!("SELECT day, {SUMS} {MODEL_RANGE} GROUP BY day ORDER BY day")
}
const PERSON: &str = "FROM ai_usage_days WHERE project_id = $1 AND site_user_id = $2";

#[async_trait]
pub trait AiUsageStore: HasDb {
    /// AI usage of `from_day..=to_day`, with one page (`limit`, `offset`) of
    /// people (live or from a snapshot, as `policy` allows: `ai_people`).
    async fn ai_usage(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        limit: i64,
        offset: i64,
        policy: PeoplePolicy,
    ) -> StoreResult<AiUsageReport> {
        let range = (project_id, from_day, to_day);
        // Distinct people from the per-day sketches (`uniques`).
        let users =
            crate::uniques::count(self.db(), project_id, crate::uniques::AI, from_day, to_day)
                .await?;
        let people = ai_people::page(
            self.db(),
            project_id,
            from_day,
            to_day,
            users,
            limit,
            offset,
            policy,
        )
        .await?;
        Ok(AiUsageReport {
            totals: self.ai_usage_totals(project_id, from_day, to_day).await?,
            by_model: self.db().all(&by_model_sql(), range).await?,
            by_user: people.rows,
            by_user_as_of_ms: people.as_of_ms,
            users,
            daily: self.db().all(&daily_sql(), range).await?,
        })
    }

    /// The sums of `from_day..=to_day` alone (days × models rows).
    async fn ai_usage_totals(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<AiTotals> {
        self.db()
            .one(&totals_sql(), (project_id, from_day, to_day))
            .await
    }

    /// Recomputes the people snapshots being read (the scheduler).
    async fn refresh_ai_people(&self, policy: PeoplePolicy) -> StoreResult<usize> {
        ai_people::refresh(self.db(), policy).await
    }

    /// One person's AI usage, all time (profiles).
    async fn person_ai_usage(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<PersonAiUsage> {
        let p = (project_id, site_user_id);
        let totals: AiTotals = self.db().one(&format!("SELECT {SUMS} {PERSON}"), p).await?;
        let by_model: Vec<AiByModel> = self
            .db()
            .all(
                &format!("SELECT model, {SUMS} {PERSON} GROUP BY model ORDER BY CAST(SUM(prompt_tokens) + SUM(completion_tokens) AS BIGINT) DESC, model"),
                p,
            )
            .await?;
        Ok(PersonAiUsage { totals, by_model })
    }
}
