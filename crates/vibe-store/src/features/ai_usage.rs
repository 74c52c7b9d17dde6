//! AI token usage: reads of `ai_model_days` (totals, models, days),
//! `ai_usage_days` (the people page, profiles) and the `ai` sketches of
//! `unique_days` (distinct people), which ingest fills from the reserved
//! `ai_usage` event (validated in `vibe_core::reserved::ai_usage`).

use async_trait::async_trait;

use super::model::{AiByModel, AiTotals, AiUsageReport, PersonAiUsage};
use crate::db::HasDb;
use crate::StoreResult;

const SUMS: &str = "CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS calls,
     CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
     CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens,
     CAST(COALESCE(SUM(cost_micro_usd), 0) AS BIGINT) AS cost_micro_usd";
const RANGE: &str = "FROM ai_usage_days WHERE project_id = $1 AND day >= $2 AND day <= $3";
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
/// People of the range, most tokens first: aggregated first, then only the
/// page is joined with `site_users`.
fn by_user_sql() -> String {
    format!(
        "SELECT t.site_user_id, u.user_id, u.email, u.name, t.calls, t.prompt_tokens, t.completion_tokens, t.cost_micro_usd
         FROM (SELECT site_user_id, {SUMS}, CAST(SUM(prompt_tokens) + SUM(completion_tokens) AS BIGINT) AS total_tokens
               {RANGE} GROUP BY site_user_id
               ORDER BY total_tokens DESC, site_user_id LIMIT $4 OFFSET $5) t
         LEFT JOIN site_users u ON u.project_id = $1 AND u.id = t.site_user_id
         ORDER BY t.total_tokens DESC, t.site_user_id"
    )
}
const PERSON: &str = "FROM ai_usage_days WHERE project_id = $1 AND site_user_id = $2";

#[async_trait]
pub trait AiUsageStore: HasDb {
    /// AI usage of `from_day..=to_day`, with one page (`limit`, `offset`) of
    /// people.
    async fn ai_usage(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<AiUsageReport> {
        let range = (project_id, from_day, to_day);
        Ok(AiUsageReport {
            totals: self.db().one(&totals_sql(), range).await?,
            by_model: self.db().all(&by_model_sql(), range).await?,
            by_user: self
                .db()
                .all(
                    &by_user_sql(),
                    (project_id, from_day, to_day, limit, offset),
                )
                .await?,
            // Distinct people from the per-day sketches (`uniques`).
            users: crate::uniques::count(
                self.db(),
                project_id,
                crate::uniques::AI,
                from_day,
                to_day,
            )
            .await?,
            daily: self.db().all(&daily_sql(), range).await?,
        })
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
