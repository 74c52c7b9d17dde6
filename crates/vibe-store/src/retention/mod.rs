//! Retention domain: the `retention_cohorts` rollup (people of a first-seen
//! day's cohort active N days later) and its reads. Ingest keeps it current in
//! its own transaction ([`ingest`]); `rollup::rebuild` recomputes it. Reads cost
//! O(days in the range), never O(events) or O(people). Definitions:
//! docs/metrics.md ("Retention").

pub mod ingest;
pub mod report;

use crate::db::BeginWrite;
use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use jiff::civil::Date;
use vibe_core::day::{parse_day, ProjectTz};

use crate::db::{err, on_db, HasDb};
use crate::ingest::shaped_chunks;
use crate::StoreResult;

/// The largest `offset_days` kept: a cohort's rows cover its day 0 … 90.
pub const MAX_OFFSET: i64 = 90;
/// The offsets the API reports (`retained["1"]`, `["7"]`, `["30"]`).
pub const REPORTED_OFFSETS: [i64; 3] = [1, 7, 30];

const CELLS: &str = "SELECT cohort_day, offset_days, people FROM retention_cohorts
     WHERE project_id = $1 AND cohort_day >= $2 AND cohort_day <= $3 AND offset_days IN (1, 7, 30)
     ORDER BY cohort_day, offset_days";
const ALL_CELLS: &str = "SELECT cohort_day, offset_days, people FROM retention_cohorts
     WHERE project_id = $1 AND people <> 0 ORDER BY cohort_day, offset_days";
const FIRST_SEEN: &str = "SELECT id, first_seen FROM site_users WHERE project_id = $1";
const DELETE_CELLS: &str =
    "DELETE FROM retention_cohorts WHERE project_id = $1 AND cohort_day >= $2 AND cohort_day <= $3";
const INSERT_CELLS: &str =
    "INSERT INTO retention_cohorts (project_id, cohort_day, offset_days, people) ";

/// One stored cell: `people` of the cohort of `cohort_day` active on
/// `cohort_day + offset_days`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct RetentionCell {
    pub cohort_day: String,
    pub offset_days: i64,
    pub people: i64,
}

/// Days from `cohort` to `day`, if `day` is within the kept offsets.
pub fn offset_of(cohort: Date, day: Date) -> Option<i64> {
    let off = i64::from(cohort.until(day).ok()?.get_days());
    (0..=MAX_OFFSET).contains(&off).then_some(off)
}

/// The cells of everyone (a rebuild): `cohort` is each person's first-seen
/// local day, `days` their active days. Only cohorts in `from..=to`.
pub fn cells_of<'a>(
    people: impl IntoIterator<Item = (Date, &'a BTreeSet<Date>)>,
    from: Date,
    to: Date,
) -> Vec<RetentionCell> {
    let mut cells: BTreeMap<(Date, i64), i64> = BTreeMap::new();
    for (cohort, days) in people {
        if cohort < from || cohort > to {
            continue;
        }
        for d in days {
            if let Some(off) = offset_of(cohort, *d) {
                *cells.entry((cohort, off)).or_default() += 1;
            }
        }
    }
    cells
        .into_iter()
        .map(|((c, offset_days), people)| RetentionCell {
            cohort_day: c.to_string(),
            offset_days,
            people,
        })
        .collect()
}

/// Recomputes the cells of cohorts `from − MAX_OFFSET ..= to` (those whose
/// days `from..=to` can reach) from people's `first_seen` and their active
/// days (`days_by_person`, all of the project's `user_days`), part of
/// `rollup::rebuild`.
pub async fn rebuild(
    store: &dyn crate::Store,
    project_id: &str,
    tz: &ProjectTz,
    days_by_person: &BTreeMap<String, BTreeSet<Date>>,
    from: Date,
    to: Date,
) -> StoreResult<()> {
    let from = from
        .checked_sub(jiff::Span::new().days(MAX_OFFSET))
        .unwrap_or(from);
    let none = BTreeSet::new();
    let people: Vec<(Date, &BTreeSet<Date>)> = store
        .people_first_seen(project_id)
        .await?
        .into_iter()
        .filter_map(|(person, first_seen)| {
            let cohort = parse_day(&tz.day_of(first_seen))?;
            Some((cohort, days_by_person.get(&person).unwrap_or(&none)))
        })
        .collect();
    let cells = cells_of(people, from, to);
    store
        .replace_retention(project_id, &from.to_string(), &to.to_string(), &cells)
        .await
}

#[async_trait]
pub trait RetentionStore: HasDb {
    /// Cells of cohorts `from_day..=to_day` at the reported offsets (1, 7, 30).
    async fn retention_cells(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
    ) -> StoreResult<Vec<RetentionCell>> {
        self.db().all(CELLS, (project_id, from_day, to_day)).await
    }

    /// Every non-zero cell as stored, for tests comparing rebuild with ingest.
    async fn retention_all_cells(&self, project_id: &str) -> StoreResult<Vec<RetentionCell>> {
        self.db().all(ALL_CELLS, (project_id,)).await
    }

    /// `(person, first_seen)` of every person of a project (rebuild input).
    async fn people_first_seen(&self, project_id: &str) -> StoreResult<Vec<(String, i64)>> {
        self.db().all(FIRST_SEEN, (project_id,)).await
    }

    /// Replaces the cells of cohorts `from_day..=to_day` with `cells`.
    async fn replace_retention(
        &self,
        project_id: &str,
        from_day: &str,
        to_day: &str,
        cells: &[RetentionCell],
    ) -> StoreResult<()> {
        on_db!(self.db(), pool, DB => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query(DELETE_CELLS)
                .bind(project_id)
                .bind(from_day)
                .bind(to_day)
                .execute(&mut *tx)
                .await?;
            for chunk in shaped_chunks(cells) {
                let mut q = sqlx::QueryBuilder::<DB>::new(INSERT_CELLS);
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(project_id)
                        .push_bind(&c.cohort_day)
                        .push_bind(c.offset_days)
                        .push_bind(c.people);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .map_err(err)
    }
}
