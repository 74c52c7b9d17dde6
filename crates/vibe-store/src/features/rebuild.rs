//! Recomputing the feature and AI rollups from stored events (part of
//! `rollup::rebuild`, so `vibe stats rebuild` and migrations' backfills
//! include them). Yields exactly the rows ingest keeps.

use std::collections::{BTreeMap, BTreeSet};

use vibe_core::day::ProjectTz;
use vibe_core::reserved::ai_usage::AiUsage;
use vibe_core::reserved::is_reserved;

use super::model::AiRow;
use crate::StoreResult;

/// Events belong to the person their anonymous id maps to now, or — without
/// one — to the person of their user id (as in `rollup::rebuild`).
const PERSON: &str = "COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id)";
const JOINS: &str = "FROM user_events e
     LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
     LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id";

pub(crate) const REBUILD_PERSON_FEATURES: &str =
    "INSERT INTO person_features (project_id, site_user_id, name, events, first_ts, last_ts)
     SELECT $1, p.person, p.name, COUNT(*), MIN(p.ts), MAX(p.ts) FROM (
       SELECT COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id) AS person, e.name AS name, e.ts AS ts
       FROM user_events e
       LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
       LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
       WHERE e.project_id = $1 AND e.kind = 'event' AND e.name IS NOT NULL
         AND e.name NOT IN ('payment', 'subscription', 'ai_usage')
     ) p GROUP BY p.person, p.name";

/// `ai_model_days` of `$2..=$3` from the (just rebuilt) `ai_usage_days`.
pub(crate) const REBUILD_AI_MODEL_DAYS: &str =
    "INSERT INTO ai_model_days (project_id, day, model, calls, prompt_tokens, completion_tokens, cost_micro_usd)
     SELECT project_id, day, model, CAST(SUM(calls) AS BIGINT), CAST(SUM(prompt_tokens) AS BIGINT),
       CAST(SUM(completion_tokens) AS BIGINT), CAST(SUM(cost_micro_usd) AS BIGINT)
     FROM ai_usage_days WHERE project_id = $1 AND day >= $2 AND day <= $3
     GROUP BY project_id, day, model";

/// Custom events of `[from_ms, to_ms)`: ts, name, props, person.
pub fn events_sql() -> String {
    format!(
        "SELECT e.ts, e.name, e.props, {PERSON} {JOINS}
         WHERE e.project_id = $1 AND e.kind = 'event' AND e.name IS NOT NULL AND e.ts >= $2 AND e.ts < $3"
    )
}

/// Rebuilds `from..=to` (local days) a week at a time, then every person's
/// counters.
pub async fn rebuild(
    store: &dyn crate::Store,
    project: &crate::Project,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
) -> StoreResult<()> {
    let tz = ProjectTz::or_utc(&project.timezone);
    let days = vibe_core::day::days_between(from, to);
    let sql = events_sql();
    for week in days.chunks(7) {
        let (first, last) = (week[0], week[week.len() - 1]);
        let from_ms = tz.start_of(first);
        let to_ms = last.tomorrow().map(|d| tz.start_of(d)).unwrap_or(i64::MAX);
        let events: Vec<(i64, String, Option<String>, String)> = store
            .db()
            .all(&sql, (project.id.as_str(), from_ms, to_ms))
            .await?;
        let mut feature_days: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut user_days: BTreeSet<(String, String, String)> = BTreeSet::new();
        let mut ai: BTreeMap<(String, String, String), [i64; 4]> = BTreeMap::new();
        for (ts, name, props, person) in events {
            let day = tz.day_of(ts);
            if name == "ai_usage" {
                let props: Option<serde_json::Map<String, serde_json::Value>> =
                    props.and_then(|p| serde_json::from_str(&p).ok());
                let Some(u) = props.as_ref().and_then(|p| AiUsage::parse(p, "props").ok()) else {
                    continue;
                };
                let s = ai.entry((day, u.model.to_owned(), person)).or_default();
                s[0] += 1;
                s[1] += u.prompt_tokens;
                s[2] += u.completion_tokens;
                s[3] += u.cost_micro_usd;
                continue;
            }
            if is_reserved(&name) {
                continue;
            }
            *feature_days.entry((day.clone(), name.clone())).or_default() += 1;
            user_days.insert((day, name, person));
        }
        let feature_days: Vec<(String, String, i64)> = feature_days
            .into_iter()
            .map(|((d, n), c)| (d, n, c))
            .collect();
        let user_days: Vec<(String, String, String)> = user_days.into_iter().collect();
        let ai: Vec<AiRow> = ai
            .into_iter()
            .map(|((day, model, site_user_id), s)| AiRow {
                day,
                model,
                site_user_id,
                calls: s[0],
                prompt_tokens: s[1],
                completion_tokens: s[2],
                cost_micro_usd: s[3],
            })
            .collect();
        store
            .replace_feature_days(
                &project.id,
                &first.to_string(),
                &last.to_string(),
                &feature_days,
                &user_days,
                &ai,
            )
            .await?;
    }
    // Snapshots of the people page were taken of the rows just replaced.
    store
        .db()
        .execute(super::ai_people::DROP_PROJECT, (project.id.as_str(),))
        .await?;
    store.rebuild_person_features(&project.id).await
}
