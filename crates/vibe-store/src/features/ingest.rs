//! What an ingest batch adds to the feature and AI usage rollups, written once
//! for both backends as multi-row statements over [`TxExec`] (so a backend
//! implements nothing). Only new messages reach
//! here (`write_batch` drops retried ids first), so a duplicate never counts
//! twice. Rows are folded per batch and written in key order, so concurrent
//! PostgreSQL nodes lock them in the same order.

use std::collections::BTreeMap;

use vibe_core::reserved::{ai_usage::AiUsage, is_reserved};
use vibe_core::MessageKind;

use crate::db::{Arg, TxExec};
use crate::ingest::{MultiRow, Resolved, TimeZones};
use crate::StoreResult;

/// The feature rollups' multi-row upserts (one statement per chunk of rows).
static FEATURE_DAYS: MultiRow = MultiRow::new(
    "INSERT INTO feature_days (project_id, day, name, events) VALUES ",
    4,
    " ON CONFLICT (project_id, day, name) DO UPDATE SET events = feature_days.events + excluded.events",
);
static FEATURE_USER_DAYS: MultiRow = MultiRow::new(
    "INSERT INTO feature_user_days (project_id, day, name, site_user_id) VALUES ",
    4,
    " ON CONFLICT DO NOTHING",
);
static PERSON_FEATURES: MultiRow = MultiRow::new(
    "INSERT INTO person_features (project_id, site_user_id, name, events, first_ts, last_ts) VALUES ",
    6,
    " ON CONFLICT (project_id, site_user_id, name) DO UPDATE SET
       events = person_features.events + excluded.events,
       first_ts = CASE WHEN excluded.first_ts < person_features.first_ts THEN excluded.first_ts ELSE person_features.first_ts END,
       last_ts = CASE WHEN excluded.last_ts > person_features.last_ts THEN excluded.last_ts ELSE person_features.last_ts END",
);
static AI_USAGE_DAYS: MultiRow = MultiRow::new(
    "INSERT INTO ai_usage_days (project_id, day, model, site_user_id, calls, prompt_tokens, completion_tokens, cost_micro_usd) VALUES ",
    8,
    " ON CONFLICT (project_id, day, model, site_user_id) DO UPDATE SET
       calls = ai_usage_days.calls + excluded.calls,
       prompt_tokens = ai_usage_days.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = ai_usage_days.completion_tokens + excluded.completion_tokens,
       cost_micro_usd = ai_usage_days.cost_micro_usd + excluded.cost_micro_usd",
);

/// The same sums per day and model, without the person (the AI report's
/// totals, models and days).
static AI_MODEL_DAYS: MultiRow = MultiRow::new(
    "INSERT INTO ai_model_days (project_id, day, model, calls, prompt_tokens, completion_tokens, cost_micro_usd) VALUES ",
    7,
    " ON CONFLICT (project_id, day, model) DO UPDATE SET
       calls = ai_model_days.calls + excluded.calls,
       prompt_tokens = ai_model_days.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = ai_model_days.completion_tokens + excluded.completion_tokens,
       cost_micro_usd = ai_model_days.cost_micro_usd + excluded.cost_micro_usd",
);

/// What the feature rollups need of a backend's open ingest transaction:
/// shared statements only, so every backend has it.
pub trait FeatureIo: TxExec {}

impl<T: TxExec> FeatureIo for T {}

/// A person's use of one name within a batch.
#[derive(Debug, Clone, Copy)]
pub struct Use {
    pub events: i64,
    pub first_ts: i64,
    pub last_ts: i64,
}

/// Whether a stored message counts as use of a feature: a custom event whose
/// name is not reserved.
pub fn is_feature(kind: MessageKind, name: Option<&str>) -> bool {
    kind == MessageKind::Event && name.is_some_and(|n| !is_reserved(n))
}

/// Adds a batch's new messages to the rollups, and their people to the
/// `feature` and `ai` sketches (`uniques`, written later in the batch).
pub async fn apply<I: FeatureIo>(
    io: &mut I,
    resolved: &[Resolved<'_>],
    tzs: &TimeZones,
    uniques: &mut crate::uniques::ingest::Adds,
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
    // Keys are unique per statement (folded above) and sorted, so
    // PostgreSQL's ON CONFLICT sees each row once and nodes lock in one order.
    let days: Vec<_> = days.into_iter().collect();
    FEATURE_DAYS
        .write(io, &days, |((p, day, name), n)| {
            vec![Arg::from(*p), Arg::from(day), Arg::from(*name), (*n).into()]
        })
        .await?;
    let user_days: Vec<_> = user_days.into_keys().collect();
    FEATURE_USER_DAYS
        .write(io, &user_days, |(p, day, name, person)| {
            vec![
                Arg::from(*p),
                Arg::from(day),
                Arg::from(*name),
                Arg::from(*person),
            ]
        })
        .await?;
    let people: Vec<_> = people.into_iter().collect();
    PERSON_FEATURES
        .write(io, &people, |((p, person, name), u)| {
            vec![
                Arg::from(*p),
                Arg::from(*person),
                Arg::from(*name),
                u.events.into(),
                u.first_ts.into(),
                u.last_ts.into(),
            ]
        })
        .await?;
    let mut models: BTreeMap<(&str, &str, &str), [i64; 4]> = BTreeMap::new();
    for ((p, day, model, person), sums) in &ai {
        uniques.add(p, crate::uniques::AI, "", day, person);
        let m = models.entry((*p, day.as_str(), *model)).or_default();
        for (t, v) in m.iter_mut().zip(sums) {
            *t += v;
        }
    }
    for (p, day, name, person) in &user_days {
        uniques.add(p, crate::uniques::FEATURE, name, day, person);
    }
    let models: Vec<_> = models.into_iter().collect();
    AI_MODEL_DAYS
        .write(io, &models, |((p, day, model), sums)| {
            let mut args = vec![Arg::from(*p), Arg::from(*day), Arg::from(*model)];
            args.extend(sums.iter().map(|v| Arg::from(*v)));
            args
        })
        .await?;
    let ai: Vec<_> = ai.into_iter().collect();
    AI_USAGE_DAYS
        .write(io, &ai, |((p, day, model, person), sums)| {
            let mut args = vec![
                Arg::from(*p),
                Arg::from(day),
                Arg::from(*model),
                Arg::from(*person),
            ];
            args.extend(sums.iter().map(|v| Arg::from(*v)));
            args
        })
        .await?;
    Ok(())
}
