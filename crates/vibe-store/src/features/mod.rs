//! Features domain: which custom events people use (`feature_days`,
//! `feature_user_days`, `person_features`) and AI token usage
//! (`ai_usage_days`, from the reserved `ai_usage` event; see [`ai_usage`]).
//! Ingest keeps the rollups ([`ingest::apply`]); `rollup::rebuild` recomputes
//! them from stored events ([`rebuild`]). Reads cost days × names (distinct
//! people come from the per-day sketches of [`crate::uniques`]), never raw
//! events.

pub mod ai_people;
pub mod ai_usage;
pub mod ingest;
pub mod model;
pub mod rebuild;

use crate::db::BeginWrite;
use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::db::{err, on_db, HasDb};
use crate::ingest::shaped_chunks;
use crate::{uniques, StoreResult};
use model::{AiRow, FeatureRollups, FeatureTotal, FeatureUsage, PersonFeature};

const FEATURE_TOTALS: &str = "SELECT name, CAST(SUM(events) AS BIGINT) FROM feature_days
     WHERE project_id = $1 AND day >= $2 AND day <= $3 GROUP BY name";
const FEATURE_DAILY: &str = "SELECT name, day, events FROM feature_days
     WHERE project_id = $1 AND day >= $2 AND day <= $3 AND events <> 0 ORDER BY name, day";
const PERSON_FEATURES: &str = "SELECT name, events, first_ts, last_ts FROM person_features
     WHERE project_id = $1 AND site_user_id = $2 ORDER BY events DESC, name";

#[async_trait]
pub trait FeatureStore: HasDb {
    /// Every custom event name used in `from_day..=to_day` (local days), most
    /// used first, with distinct people and the days' counts.
    async fn feature_usage(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<FeatureUsage> {
        let range = (project_id, from_day, to_day);
        let totals: Vec<(String, i64)> = self.db().all(FEATURE_TOTALS, range).await?;
        // Distinct people from the per-day sketches (`uniques`).
        let db = self.db();
        let uniques =
            uniques::count_by_key(db, project_id, uniques::FEATURE, from_day, to_day).await?;
        let mut daily: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for (name, day, n) in self
            .db()
            .all::<(String, String, i64)>(FEATURE_DAILY, range)
            .await?
        {
            daily.entry(name).or_default().push((day, n));
        }
        let active_people =
            uniques::count(db, project_id, uniques::ACTIVE, from_day, to_day).await?;
        let mut features: Vec<FeatureTotal> = totals
            .into_iter()
            .filter(|(_, total)| *total != 0)
            .map(|(name, total)| FeatureTotal {
                unique_people: uniques.get(&name).copied().unwrap_or(0),
                daily: daily.remove(&name).unwrap_or_default(),
                name,
                total,
            })
            .collect();
        features.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
        Ok(FeatureUsage {
            features,
            active_people,
        })
    }

    /// One person's custom events by name, most used first (profiles).
    async fn person_feature_usage(
        &self,
        project_id: &str,
        site_user_id: &str,
    ) -> StoreResult<Vec<PersonFeature>> {
        self.db()
            .all(PERSON_FEATURES, (project_id, site_user_id))
            .await
    }

    /// Replaces the day-keyed feature and AI rollups of `from_day..=to_day` in
    /// one transaction (`rollup::rebuild`).
    async fn replace_feature_days(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        days: &[(String, String, i64)],
        user_days: &[(String, String, String)],
        ai: &[AiRow],
    ) -> StoreResult<()> {
        on_db!(self.db(), pool, DB => async {
            let mut tx = pool.begin_write().await?;
            for table in ["feature_days", "feature_user_days", "ai_usage_days", "ai_model_days"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE project_id = $1 AND day >= $2 AND day <= $3"
                ))
                .bind(project_id)
                .bind(from_day)
                .bind(to_day)
                .execute(&mut *tx)
                .await?;
            }
            for chunk in shaped_chunks(days) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO feature_days (project_id, day, name, events) ");
                q.push_values(chunk, |mut b, (day, name, n)| {
                    b.push_bind(project_id).push_bind(day).push_bind(name).push_bind(*n);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in shaped_chunks(user_days) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO feature_user_days (project_id, day, name, site_user_id) ");
                q.push_values(chunk, |mut b, (day, name, person)| {
                    b.push_bind(project_id).push_bind(day).push_bind(name).push_bind(person);
                });
                q.build().execute(&mut *tx).await?;
            }
            for chunk in shaped_chunks(ai) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO ai_usage_days (project_id, day, model, site_user_id, calls, prompt_tokens, completion_tokens, cost_micro_usd) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(project_id).push_bind(&r.day).push_bind(&r.model).push_bind(&r.site_user_id)
                        .push_bind(r.calls).push_bind(r.prompt_tokens).push_bind(r.completion_tokens).push_bind(r.cost_micro_usd);
                });
                q.build().execute(&mut *tx).await?;
            }
            sqlx::query(rebuild::REBUILD_AI_MODEL_DAYS)
                .bind(project_id)
                .bind(from_day)
                .bind(to_day)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }.await)
        .map_err(err)
    }

    /// Recomputes `person_features` of a project from its stored events, in
    /// one statement (events belong to their person as `rollup::rebuild`
    /// resolves them).
    async fn rebuild_person_features(&self, project_id: &str) -> StoreResult<()> {
        on_db!(self.db(), pool => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM person_features WHERE project_id = $1")
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(rebuild::REBUILD_PERSON_FEATURES)
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }.await)
        .map_err(err)
    }

    /// Every feature rollup row of a project, for tests comparing rebuild
    /// with ingest.
    async fn feature_rollups(&self, project_id: &str) -> StoreResult<FeatureRollups> {
        let p = (project_id,);
        Ok(FeatureRollups {
            days: self.db().all("SELECT day, name, events FROM feature_days WHERE project_id = $1 AND events <> 0 ORDER BY day, name", p).await?,
            user_days: self.db().all("SELECT day, name, site_user_id FROM feature_user_days WHERE project_id = $1 ORDER BY day, name, site_user_id", p).await?,
            people: self.db().all("SELECT site_user_id, name, events, first_ts, last_ts FROM person_features WHERE project_id = $1 ORDER BY site_user_id, name", p).await?,
            ai: self.db().all("SELECT day, model, site_user_id, calls, prompt_tokens, completion_tokens, cost_micro_usd FROM ai_usage_days WHERE project_id = $1 ORDER BY day, model, site_user_id", p).await?,
            ai_models: self.db().all("SELECT day, model, calls, prompt_tokens, completion_tokens, cost_micro_usd FROM ai_model_days WHERE project_id = $1 ORDER BY day, model", p).await?,
        })
    }
}
