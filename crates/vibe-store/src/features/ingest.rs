//! What an ingest batch adds to the feature and AI usage rollups, written once
//! for both backends over [`FeatureIo`] (default methods over
//! [`TxExec`], so a backend implements nothing). Only new messages reach
//! here (`write_batch` drops retried ids first), so a duplicate never counts
//! twice. Rows are folded per batch and written in key order, so concurrent
//! PostgreSQL nodes lock them in the same order.

use std::collections::BTreeMap;

use vibe_core::reserved::{ai_usage::AiUsage, is_reserved};
use vibe_core::MessageKind;

use crate::db::TxExec;
use crate::ingest::{Resolved, TimeZones};
use crate::StoreResult;

pub const ADD_FEATURE_DAY: &str = "INSERT INTO feature_days (project_id, day, name, events) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id, day, name) DO UPDATE SET events = feature_days.events + excluded.events";
pub const ADD_FEATURE_USER_DAY: &str =
    "INSERT INTO feature_user_days (project_id, day, name, site_user_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING";
pub const ADD_PERSON_FEATURE: &str = "INSERT INTO person_features (project_id, site_user_id, name, events, first_ts, last_ts) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id, site_user_id, name) DO UPDATE SET
       events = person_features.events + excluded.events,
       first_ts = CASE WHEN excluded.first_ts < person_features.first_ts THEN excluded.first_ts ELSE person_features.first_ts END,
       last_ts = CASE WHEN excluded.last_ts > person_features.last_ts THEN excluded.last_ts ELSE person_features.last_ts END";
pub const ADD_AI_USAGE: &str = "INSERT INTO ai_usage_days (project_id, day, model, site_user_id, calls, prompt_tokens, completion_tokens, cost_micro_usd)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (project_id, day, model, site_user_id) DO UPDATE SET
       calls = ai_usage_days.calls + excluded.calls,
       prompt_tokens = ai_usage_days.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = ai_usage_days.completion_tokens + excluded.completion_tokens,
       cost_micro_usd = ai_usage_days.cost_micro_usd + excluded.cost_micro_usd";

/// The feature rollups' statements on a backend's open ingest transaction.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait FeatureIo: TxExec {
    /// [`ADD_FEATURE_DAY`].
    async fn add_feature_day(
        &mut self,
        project: &str,
        day: &str,
        name: &str,
        events: i64,
    ) -> StoreResult<()> {
        let args = [project.into(), day.into(), name.into(), events.into()];
        self.execute(ADD_FEATURE_DAY, &args).await.map(drop)
    }
    /// [`ADD_FEATURE_USER_DAY`].
    async fn add_feature_user_day(
        &mut self,
        project: &str,
        day: &str,
        name: &str,
        person: &str,
    ) -> StoreResult<()> {
        let args = [project.into(), day.into(), name.into(), person.into()];
        self.execute(ADD_FEATURE_USER_DAY, &args).await.map(drop)
    }
    /// [`ADD_PERSON_FEATURE`].
    async fn add_person_feature(
        &mut self,
        project: &str,
        person: &str,
        name: &str,
        use_: &Use,
    ) -> StoreResult<()> {
        let args = [
            project.into(),
            person.into(),
            name.into(),
            use_.events.into(),
            use_.first_ts.into(),
            use_.last_ts.into(),
        ];
        self.execute(ADD_PERSON_FEATURE, &args).await.map(drop)
    }
    /// [`ADD_AI_USAGE`].
    async fn add_ai_usage(&mut self, key: &AiKey<'_>, sums: &[i64; 4]) -> StoreResult<()> {
        let (project, day, model, person) = *key;
        let args = [
            project.into(),
            day.into(),
            model.into(),
            person.into(),
            sums[0].into(),
            sums[1].into(),
            sums[2].into(),
            sums[3].into(),
        ];
        self.execute(ADD_AI_USAGE, &args).await.map(drop)
    }
}

impl<T: TxExec> FeatureIo for T {}

/// A person's use of one name within a batch.
#[derive(Debug, Clone, Copy)]
pub struct Use {
    pub events: i64,
    pub first_ts: i64,
    pub last_ts: i64,
}

/// `(project, day, model, person)`.
pub type AiKey<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Whether a stored message counts as use of a feature: a custom event whose
/// name is not reserved.
pub fn is_feature(kind: MessageKind, name: Option<&str>) -> bool {
    kind == MessageKind::Event && name.is_some_and(|n| !is_reserved(n))
}

/// Adds a batch's new messages to the rollups.
pub async fn apply<I: FeatureIo>(
    io: &mut I,
    resolved: &[Resolved<'_>],
    tzs: &TimeZones,
) -> StoreResult<()> {
    let mut days: BTreeMap<(&str, String, &str), i64> = BTreeMap::new();
    let mut user_days: BTreeMap<(&str, String, &str, &str), ()> = BTreeMap::new();
    let mut people: BTreeMap<(&str, &str, &str), Use> = BTreeMap::new();
    let mut ai: BTreeMap<(&str, String, &str, &str), [i64; 4]> = BTreeMap::new();
    for r in resolved {
        let m = r.msg;
        if m.kind != MessageKind::Event {
            continue;
        }
        let Some(name) = m.name.as_deref() else {
            continue;
        };
        let day = tzs.get(r.project_id).day_of(m.ts);
        if name == "ai_usage" {
            let Some(u) = m
                .props
                .as_ref()
                .and_then(|p| AiUsage::parse(p, "props").ok())
            else {
                continue;
            };
            let s = ai
                .entry((r.project_id, day, u.model, r.person_id))
                .or_default();
            s[0] += 1;
            s[1] += u.prompt_tokens;
            s[2] += u.completion_tokens;
            s[3] += u.cost_micro_usd;
            continue;
        }
        if !is_feature(m.kind, Some(name)) {
            continue;
        }
        *days.entry((r.project_id, day.clone(), name)).or_default() += 1;
        user_days.insert((r.project_id, day, name, r.person_id), ());
        people
            .entry((r.project_id, r.person_id, name))
            .and_modify(|u| {
                u.events += 1;
                u.first_ts = u.first_ts.min(m.ts);
                u.last_ts = u.last_ts.max(m.ts);
            })
            .or_insert(Use {
                events: 1,
                first_ts: m.ts,
                last_ts: m.ts,
            });
    }
    for ((p, day, name), n) in &days {
        io.add_feature_day(p, day, name, *n).await?;
    }
    for (p, day, name, person) in user_days.keys() {
        io.add_feature_user_day(p, day, name, person).await?;
    }
    for ((p, person, name), u) in &people {
        io.add_person_feature(p, person, name, u).await?;
    }
    for ((p, day, model, person), sums) in &ai {
        io.add_ai_usage(&(p, day, model, person), sums).await?;
    }
    Ok(())
}
