//! `retention_cohorts` at ingest, inside the ingest transaction. A person
//! contributes one to `(cohort, d − cohort)` for each active day `d` within
//! [`MAX_OFFSET`](super::MAX_OFFSET) days of their cohort (the local day of
//! their `first_seen`). Every change is a difference of contributions, as for
//! churn (`rollup::Deltas::churn_change`):
//! - a new `user_days` pair adds one at the person's (new) cohort;
//! - a person whose `first_seen` moves to an earlier local day moves all their
//!   days to the new cohort (their days are read after the batch's locks);
//! - a merge by identify subtracts both people's contributions and adds the
//!   merged person's (cohort = the earlier first day, days = the union).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use vibe_core::day::{parse_day, ProjectTz};

use super::{offset_of, MAX_OFFSET};
use crate::db::{column, Arg, TxExec, TxRead};
use crate::ingest::io::{ActiveDay, Key};
use crate::ingest::{MultiRow, PersonUpsert, TimeZones};
use crate::StoreResult;

/// A person's active days in a range, for a cohort move.
pub const ACTIVE_DAYS_BETWEEN: &str = "SELECT day FROM user_days
     WHERE project_id = $1 AND site_user_id = $2 AND day >= $3 AND day <= $4";
/// Adds people to cells (`people` may be negative: a move or a merge).
static UPSERT: MultiRow = MultiRow::new(
    "INSERT INTO retention_cohorts (project_id, cohort_day, offset_days, people) VALUES ",
    4,
    " ON CONFLICT (project_id, cohort_day, offset_days) DO UPDATE SET people = retention_cohorts.people + excluded.people",
);

/// The ingest transaction's retention I/O: shared statements only.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait RetentionIo: TxExec + TxRead<(String,)> {
    /// [`ACTIVE_DAYS_BETWEEN`].
    async fn active_days_between(
        &mut self,
        project: &str,
        person: &str,
        from: Date,
        to: Date,
    ) -> StoreResult<BTreeSet<Date>> {
        let (from, to) = (from.to_string(), to.to_string());
        let args = [project.into(), person.into(), (&from).into(), (&to).into()];
        let days: Vec<String> = column(self, ACTIVE_DAYS_BETWEEN, &args).await?;
        Ok(days.iter().filter_map(|d| parse_day(d)).collect())
    }

    /// Adds `(project, cohort_day, offset, people)` deltas, in sorted order
    /// (concurrent PostgreSQL writers lock the rows in the same order).
    async fn write_retention(&mut self, rows: &[(&str, String, i64, i64)]) -> StoreResult<()> {
        UPSERT
            .write(self, rows, |(p, day, off, n)| {
                vec![Arg::from(*p), Arg::from(day), (*off).into(), (*n).into()]
            })
            .await
    }
}

/// Changes to `retention_cohorts`, by (project, cohort day, offset).
#[derive(Debug, Default)]
pub struct RetentionDeltas {
    pub cells: BTreeMap<(String, Date, i64), i64>,
}

impl RetentionDeltas {
    /// Adds (`sign` = 1) or removes (−1) a person of `cohort` active on `days`.
    pub fn person<'a>(
        &mut self,
        project: &str,
        cohort: Date,
        days: impl IntoIterator<Item = &'a Date>,
        sign: i64,
    ) {
        for d in days {
            if let Some(off) = offset_of(cohort, *d) {
                *self
                    .cells
                    .entry((project.to_owned(), cohort, off))
                    .or_default() += sign;
            }
        }
    }

    /// Person `from` (first seen at `from_first`, active on `from_days`) is
    /// merged into `into`; `merged` is the union of their days.
    pub fn merge(
        &mut self,
        project: &str,
        tz: &ProjectTz,
        (from_first, from_days): (Option<i64>, &BTreeSet<Date>),
        (into_first, into_days): (Option<i64>, &BTreeSet<Date>),
        merged: &BTreeSet<Date>,
    ) {
        let cohort = |t: Option<i64>| t.and_then(|t| parse_day(&tz.day_of(t)));
        if let Some(c) = cohort(from_first) {
            self.person(project, c, from_days, -1);
        }
        if let Some(c) = cohort(into_first) {
            self.person(project, c, into_days, -1);
        }
        let first = match (from_first, into_first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(c) = cohort(first) {
            self.person(project, c, merged, 1);
        }
    }

    /// Rows worth writing, in key order.
    pub fn rows(&self) -> Vec<(&str, String, i64, i64)> {
        self.cells
            .iter()
            .filter(|(_, n)| **n != 0)
            .map(|((p, c, off), n)| (p.as_str(), c.to_string(), *off, *n))
            .collect()
    }
}

/// After the batch's people are upserted and its active days inserted:
/// `old_first_seen` is what the people were before (after merges), `new_days`
/// the `user_days` pairs that were new. Adds their deltas to `deltas` (which
/// already holds the merges') and writes them.
pub async fn apply<I: RetentionIo>(
    io: &mut I,
    tzs: &TimeZones,
    people: &[PersonUpsert],
    old_first_seen: &HashMap<Key, i64>,
    new_days: &[Cow<'_, ActiveDay>],
    deltas: &mut RetentionDeltas,
) -> StoreResult<()> {
    let mut added: HashMap<(&str, &str), BTreeSet<Date>> = HashMap::new();
    for day in new_days {
        let (p, u, d) = &**day;
        if let Some(d) = parse_day(d) {
            added.entry((p, u)).or_default().insert(d);
        }
    }
    let none = BTreeSet::new();
    for p in people {
        let tz = tzs.get(&p.project_id);
        let old = old_first_seen
            .get(&(p.project_id.clone(), p.id.clone()))
            .copied();
        let first = old.map_or(p.first_seen, |o| o.min(p.first_seen));
        let Some(cohort) = parse_day(&tz.day_of(first)) else {
            continue;
        };
        let new_here = added
            .get(&(p.project_id.as_str(), p.id.as_str()))
            .unwrap_or(&none);
        match old.and_then(|o| parse_day(&tz.day_of(o))) {
            Some(old_cohort) if old_cohort != cohort => {
                let last = old_cohort
                    .checked_add(jiff::Span::new().days(MAX_OFFSET))
                    .unwrap_or(old_cohort);
                let now = io
                    .active_days_between(&p.project_id, &p.id, cohort.min(old_cohort), last)
                    .await?;
                let before: BTreeSet<Date> = now.difference(new_here).copied().collect();
                deltas.person(&p.project_id, old_cohort, &before, -1);
                deltas.person(&p.project_id, cohort, &now, 1);
            }
            _ => deltas.person(&p.project_id, cohort, new_here, 1),
        }
    }
    io.write_retention(&deltas.rows()).await
}
