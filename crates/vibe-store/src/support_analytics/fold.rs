//! The raw fold: `support_events` rows (and agent time, [`super::agent_time`])
//! of a window turned into [`Counters`] per group key and dimensions. It is
//! the reference answer and also what the snapshot job and the live tail of
//! a read run, so the snapshots hold exactly what recomputation would.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::periods::Periods;
use super::{agent_time, CounterRow, Counters, Dims, GroupBy, ReportFilter, ReportScope};
use crate::db::Db;
use crate::StoreResult;

/// `(group key, dimensions) → counters`.
pub type Groups = BTreeMap<(String, Dims), Counters>;

/// Facts whose label is one of a small set, counted per label (`name:label`).
const LABELLED: &[&str] = &[
    "conversation_created",
    "message",
    "sla",
    "sla_miss",
    "resolved",
];
/// Facts counted per local hour of day (`name.h{H}`, `name.s.h{H}`), for the
/// chats-per-hour, peak and wait-at-peak figures of day and week rows.
const BY_HOUR_OF_DAY: &[&str] = &["conversation_created", "message", "reply", "first_response"];

const FACTS: &str =
    "SELECT name, account_id, team_id, channel, value_s, value_bh_s, flag, label, at
     FROM support_events WHERE project_id = $1 AND at >= $2 AND at < $3";

#[derive(sqlx::FromRow)]
struct Fact {
    name: String,
    account_id: Option<String>,
    team_id: Option<String>,
    channel: String,
    value_s: Option<i64>,
    value_bh_s: Option<i64>,
    flag: i64,
    label: Option<String>,
    at: i64,
}

/// The group key of an instant (and agent) under `group`.
pub fn key_of(p: &Periods, group: GroupBy, at: i64, account_id: &str) -> String {
    match group {
        GroupBy::Total => String::new(),
        GroupBy::Agent => account_id.to_owned(),
        GroupBy::Hour => p.hour_start(at).to_string(),
        GroupBy::Day => p.day_start(at).to_string(),
        GroupBy::DayOfWeekHour => format!("{}:{}", p.day_of_week(at), p.hour_of_day(at)),
    }
}

/// One fact's contribution (see docs/metrics.md, "Support counters").
fn count(p: &Periods, f: &Fact, c: &mut Counters) {
    let n = &f.name;
    c.bump(n.as_str(), 1);
    if f.flag != 0 {
        c.bump(format!("{n}.flag"), 1);
    }
    if let Some(v) = f.value_s {
        c.bump(format!("{n}.s"), v);
    }
    if let Some(v) = f.value_bh_s {
        c.bump(format!("{n}.bh"), v);
        c.bump(format!("{n}.bhn"), 1);
    }
    if let Some(l) = f
        .label
        .as_deref()
        .filter(|_| LABELLED.contains(&n.as_str()))
    {
        c.bump(format!("{n}:{l}"), 1);
        // With the flag per label too: bot-only resolutions per intent (S2).
        if f.flag != 0 {
            c.bump(format!("{n}.flag:{l}"), 1);
        }
    }
    if BY_HOUR_OF_DAY.contains(&n.as_str()) {
        let h = p.hour_of_day(f.at);
        c.bump(format!("{n}.h{h}"), 1);
        if let Some(v) = f.value_s {
            c.bump(format!("{n}.s.h{h}"), v);
        }
    }
}

/// Every fact and all agent time of `[from_ms, to_ms)`, grouped.
pub async fn fold_window(
    db: &Db,
    project_id: &str,
    p: &Periods,
    from_ms: i64,
    to_ms: i64,
    group: GroupBy,
) -> StoreResult<Groups> {
    let mut groups = Groups::new();
    if to_ms <= from_ms {
        return Ok(groups);
    }
    let facts: Vec<Fact> = db.all(FACTS, (project_id, from_ms, to_ms)).await?;
    for f in &facts {
        let dims = Dims {
            account_id: f.account_id.clone().unwrap_or_default(),
            team_id: f.team_id.clone().unwrap_or_default(),
            channel: f.channel.clone(),
        };
        let key = key_of(p, group, f.at, &dims.account_id);
        count(p, f, groups.entry((key, dims)).or_default());
    }
    agent_time::fold(db, project_id, p, from_ms, to_ms, group, &mut groups).await?;
    Ok(groups)
}

/// Adds `more` into `into`.
pub fn merge(into: &mut Groups, more: Groups) {
    for (k, c) in more {
        match into.entry(k) {
            Entry::Vacant(v) => {
                v.insert(c);
            }
            Entry::Occupied(mut o) => o.get_mut().add(&c),
        }
    }
}

/// The raw folds of one report (one project, one time zone), by window.
/// Its sections ask for the same open tail since the snapshot mark several
/// times — current figures, one channel's, since the range start — under
/// different groupings, scopes and filters; the window is folded once, per
/// local hour with every dimension, and regrouped for each ask (hours add
/// up to any coarser group, agent time included: its seconds are whole).
/// Not kept beyond the report: a later report has a later `now`.
#[derive(Debug, Default)]
pub struct FoldCache(Mutex<HashMap<(i64, i64), Arc<Groups>>>);

impl FoldCache {
    /// [`fold_window`] of `[from_ms, to_ms)` under `group`, folded once.
    pub async fn fold(
        &self,
        db: &Db,
        project_id: &str,
        p: &Periods,
        from_ms: i64,
        to_ms: i64,
        group: GroupBy,
    ) -> StoreResult<Groups> {
        if to_ms <= from_ms {
            return Ok(Groups::new());
        }
        let window = (from_ms, to_ms);
        let known = self.lock().get(&window).cloned();
        let hours = match known {
            Some(h) => h,
            None => {
                let h =
                    Arc::new(fold_window(db, project_id, p, from_ms, to_ms, GroupBy::Hour).await?);
                self.lock().insert(window, h.clone());
                h
            }
        };
        if group == GroupBy::Hour {
            return Ok((*hours).clone());
        }
        let mut out = Groups::new();
        for ((hour, dims), c) in hours.iter() {
            let start: i64 = hour.parse().unwrap_or_default();
            let key = key_of(p, group, start, &dims.account_id);
            out.entry((key, dims.clone())).or_default().add(c);
        }
        Ok(out)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(i64, i64), Arc<Groups>>> {
        // A panic elsewhere leaves whole entries only: the map stays usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The admitted groups summed per key, empty ones left out, in key order.
pub fn rows(groups: Groups, scope: &ReportScope, filter: &ReportFilter) -> Vec<CounterRow> {
    let mut by_key: BTreeMap<String, Counters> = BTreeMap::new();
    for ((key, dims), c) in groups {
        if dims.admitted(scope, filter) {
            by_key.entry(key).or_default().add(&c);
        }
    }
    by_key
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(key, counters)| CounterRow { key, counters })
        .collect()
}
