//! Snapshots: the raw fold of each closed local hour, stored per dimension
//! as `hourly` rows of `analytics_snapshots`; `daily` rows summed from a
//! day's hourly rows and `weekly` rows from a week's daily rows (every
//! counter adds). `analytics_snapshot_marks` says how far each kind goes.
//!
//! An hour is folded once it closed at least the grace ago (10 minutes, or
//! the project's online window plus 5 minutes if longer): facts land a
//! little after they happen — the presence sweep sets a vanished agent
//! offline from their last seen moment, minutes back; delivery statuses and
//! webhook retries arrive late — and the grace lets them in first. A fact
//! landing in an hour already folded is not picked up: closed snapshots are
//! never recomputed, except by [`rebuild`] (`vibe support rebuild`).
//!
//! Each period also holds its projections ([`Kept`]): the same counters per
//! agent only, team only, channel only and in total, so a read that looks
//! at one dimension at most takes a row per period.
//!
//! A read takes the widest closed rows that fit the range (weeks, then
//! days, then hours, as the grouping allows), of the narrowest projection
//! that answers it, and folds the raw facts only of what is left: partial
//! hours at the edges and the open tail after the mark. Its cost follows
//! the number of periods, not of messages.

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::fold::{self, FoldCache, Groups};
use super::periods::Periods;
use super::projections::Kept;
use super::{CounterRow, Counters, Dims, GroupBy, KeepReport, ReportFilter, ReportScope};
use crate::db::{err, on_db, BeginWrite, Db};
use crate::tracking::ingest::shaped_chunks;
use crate::{StoreError, StoreResult};

/// The least time after an hour closes before it is folded.
pub const GRACE_MS: i64 = 10 * 60_000;
/// Margin over the online window: the presence sweep runs every 30 s.
const SWEEP_MARGIN_MS: i64 = 5 * 60_000;
/// Hours folded per transaction while catching up.
const CHUNK_HOURS: usize = 24 * 7;

const PROJECTS: &str = "SELECT id, timezone, online_window_s FROM projects";
const MARK: &str = "SELECT tz, hourly_to, daily_to, weekly_to FROM analytics_snapshot_marks
     WHERE project_id = $1";
const NEW_MARK: &str = "INSERT INTO analytics_snapshot_marks
     (project_id, tz, hourly_to, daily_to, weekly_to, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id) DO NOTHING";
/// The earliest fact or status of the project: nothing to fold before it.
const FIRST: &str = "SELECT MIN(t) FROM (
       SELECT MIN(at) AS t FROM support_events WHERE project_id = $1
       UNION ALL SELECT MIN(started_at) AS t FROM agent_activity_logs WHERE project_id = $1
     ) AS f";
const CLEAR: [&str; 2] = [
    "DELETE FROM analytics_snapshots WHERE project_id = $1",
    "DELETE FROM analytics_snapshot_marks WHERE project_id = $1",
];
const ROWS: &str = "SELECT kept, period_start, account_id, team_id, channel, metrics
     FROM analytics_snapshots
     WHERE project_id = $1 AND snapshot_type = $2 AND period_start >= $3 AND period_start < $4";
const KEPT_ROWS_HEAD: &str = "SELECT kept, period_start, account_id, team_id, channel, metrics
     FROM analytics_snapshots WHERE project_id = ";
const DELETE_ROWS: &str = "DELETE FROM analytics_snapshots
     WHERE project_id = $1 AND snapshot_type = $2 AND period_start >= $3 AND period_start < $4";
const INSERT_ROWS: &str = "INSERT INTO analytics_snapshots
     (project_id, snapshot_type, kept, period_start, account_id, team_id, channel, metrics, created_at) ";

#[derive(Clone, Debug, sqlx::FromRow)]
struct Mark {
    tz: String,
    hourly_to: i64,
    daily_to: i64,
    weekly_to: i64,
}

/// Which mark a write advances: `(column, from, to)`.
type Advance = (&'static str, i64, i64);
/// Rows of one kind: `(period start, kept, dimensions) → counters`.
type Rows = BTreeMap<(i64, Kept, Dims), Counters>;

async fn mark(db: &Db, project_id: &str) -> StoreResult<Option<Mark>> {
    db.optional(MARK, (project_id,)).await
}

fn ceil_to(start_of: impl Fn(i64) -> i64, next: impl Fn(i64) -> i64, ms: i64) -> i64 {
    let s = start_of(ms);
    if s == ms {
        s
    } else {
        next(s)
    }
}

/// Replaces the `kind` rows of `[a, b)` with `rows` in one transaction,
/// first moving the mark from its expected value (compare and set, so two
/// runs never both write a period); `false` when another run moved it.
async fn write(
    db: &Db,
    project_id: &str,
    kind: &str,
    (a, b): (i64, i64),
    rows: &Rows,
    advance: Option<Advance>,
    now_ms: i64,
) -> StoreResult<bool> {
    let mut json = Vec::with_capacity(rows.len());
    for ((start, kept, dims), c) in rows {
        json.push((
            *start,
            kept.as_str(),
            dims,
            serde_json::to_string(&c.0).map_err(StoreError::other)?,
        ));
    }
    on_db!(db, pool, DB => async {
        let mut tx = pool.begin_write().await.map_err(err)?;
        if let Some((column, from, to)) = advance {
            let sql = format!(
                "UPDATE analytics_snapshot_marks SET {column} = $2, updated_at = $3
                 WHERE project_id = $1 AND {column} = $4"
            );
            let moved = sqlx::query(&sql)
                .bind(project_id).bind(to).bind(now_ms).bind(from)
                .execute(&mut *tx).await.map_err(err)?;
            if moved.rows_affected() == 0 {
                return Ok(false);
            }
        }
        sqlx::query(DELETE_ROWS)
            .bind(project_id).bind(kind).bind(a).bind(b)
            .execute(&mut *tx).await.map_err(err)?;
        for chunk in shaped_chunks(&json) {
            let mut q = sqlx::QueryBuilder::<DB>::new(INSERT_ROWS);
            q.push_values(chunk, |mut b, (start, kept, dims, metrics)| {
                b.push_bind(project_id).push_bind(kind).push_bind(*kept).push_bind(*start)
                    .push_bind(&dims.account_id).push_bind(&dims.team_id).push_bind(&dims.channel)
                    .push_bind(metrics).push_bind(now_ms);
            });
            q.build().execute(&mut *tx).await.map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(true)
    }
    .await)
}

/// Which stored rows a read takes: those keeping `Kept`, and of those only
/// the ones whose kept dimensions have the given values.
type Take<'a> = Option<(Kept, &'a [(&'static str, &'a str)])>;

/// The stored `kind` rows of `[a, b)`: those `take` names, or all.
async fn read(
    db: &Db,
    project_id: &str,
    kind: &str,
    (a, b): (i64, i64),
    take: Take<'_>,
) -> StoreResult<Rows> {
    let mut out = Rows::new();
    if b <= a {
        return Ok(out);
    }
    type Row = (String, i64, String, String, String, String);
    let rows: Vec<Row> = match take {
        Some((k, pinned)) => on_db!(db, pool, DB => {
            let mut q = sqlx::QueryBuilder::<DB>::new(KEPT_ROWS_HEAD);
            q.push_bind(project_id).push(" AND snapshot_type = ").push_bind(kind);
            q.push(" AND kept = ").push_bind(k.as_str());
            q.push(" AND period_start >= ").push_bind(a);
            q.push(" AND period_start < ").push_bind(b);
            for (column, value) in pinned {
                q.push(format!(" AND {column} = ")).push_bind(*value);
            }
            q.build_query_as().fetch_all(pool).await
        })
        .map_err(err)?,
        None => db.all(ROWS, (project_id, kind, a, b)).await?,
    };
    for (kept, start, account_id, team_id, channel, metrics) in rows {
        let kept = Kept::parse(&kept)
            .ok_or_else(|| StoreError::Other(format!("snapshot row keeps {kept:?}").into()))?;
        let map: BTreeMap<String, i64> =
            serde_json::from_str(&metrics).map_err(StoreError::other)?;
        let dims = Dims {
            account_id,
            team_id,
            channel,
        };
        // The key is unique per row: no sum needed.
        out.insert((start, kept, dims), Counters(map));
    }
    Ok(out)
}

/// The raw fold of the hours `[a, b)`, one row per hour and dimensions,
/// plus each hour's projections.
async fn fold_hours(db: &Db, project_id: &str, p: &Periods, a: i64, b: i64) -> StoreResult<Rows> {
    let groups = fold::fold_window(db, project_id, p, a, b, GroupBy::Hour).await?;
    let mut out = Rows::new();
    for ((key, dims), c) in groups {
        let start = key.parse::<i64>().map_err(StoreError::other)?;
        for kept in Kept::PROJECTIONS {
            out.entry((start, kept, kept.project(&dims)))
                .or_default()
                .add(&c);
        }
        out.insert((start, Kept::All, dims), c);
    }
    Ok(out)
}

/// Sums the `from` rows of `[a, b)` into `to` rows (day or week starts).
async fn roll_up(
    db: &Db,
    project_id: &str,
    p: &Periods,
    (from, to): (&str, &str),
    (a, b): (i64, i64),
    advance: Option<Advance>,
    now_ms: i64,
) -> StoreResult<bool> {
    let mut rows = Rows::new();
    for ((start, kept, dims), c) in read(db, project_id, from, (a, b), None).await? {
        let period = if to == "daily" {
            p.day_start(start)
        } else {
            p.week_start(start)
        };
        rows.entry((period, kept, dims)).or_default().add(&c);
    }
    write(db, project_id, to, (a, b), &rows, advance, now_ms).await
}

/// Folds what closed since the project's marks: hours, then days, then weeks.
async fn keep_project(
    db: &Db,
    project_id: &str,
    tz: &str,
    online_window_s: i64,
    now_ms: i64,
) -> StoreResult<KeepReport> {
    let p = Periods::new(tz);
    let grace = GRACE_MS.max(online_window_s * 1000 + SWEEP_MARGIN_MS);
    let closed_to = p.hour_start(now_ms - grace);
    let mut report = KeepReport {
        projects: 1,
        ..KeepReport::default()
    };
    let mut m = mark(db, project_id).await?;
    if m.as_ref().is_some_and(|m| m.tz != tz) {
        // Periods of another zone: refold everything in the new one.
        for sql in CLEAR {
            db.execute(sql, (project_id,)).await?;
        }
        m = None;
    }
    let mut m = match m {
        Some(m) => m,
        None => {
            let first: Option<i64> = db.scalar(FIRST, (project_id,)).await?;
            let start = first.map_or(closed_to, |t| p.hour_start(t)).min(closed_to);
            let (day, week) = (p.day_start(start), p.week_start(start));
            db.execute(NEW_MARK, (project_id, tz, start, day, week, now_ms))
                .await?;
            match mark(db, project_id).await? {
                Some(m) => m,
                None => return Ok(report),
            }
        }
    };
    while m.hourly_to < closed_to {
        let (a, mut b, mut n) = (m.hourly_to, m.hourly_to, 0);
        while b < closed_to && n < CHUNK_HOURS {
            b = p.next_hour(b).min(closed_to);
            n += 1;
        }
        let rows = fold_hours(db, project_id, &p, a, b).await?;
        if !write(
            db,
            project_id,
            "hourly",
            (a, b),
            &rows,
            Some(("hourly_to", a, b)),
            now_ms,
        )
        .await?
        {
            return Ok(report); // another run is folding this project
        }
        report.hours += n as u64;
        m.hourly_to = b;
    }
    let days_to = p.day_start(m.hourly_to);
    if days_to > m.daily_to {
        let span = (m.daily_to, days_to);
        if !roll_up(
            db,
            project_id,
            &p,
            ("hourly", "daily"),
            span,
            Some(("daily_to", span.0, span.1)),
            now_ms,
        )
        .await?
        {
            return Ok(report);
        }
        let mut d = m.daily_to;
        while d < days_to {
            d = p.next_day(d);
            report.days += 1;
        }
        m.daily_to = days_to;
    }
    let weeks_to = p.week_start(m.daily_to);
    if weeks_to > m.weekly_to {
        let span = (m.weekly_to, weeks_to);
        if !roll_up(
            db,
            project_id,
            &p,
            ("daily", "weekly"),
            span,
            Some(("weekly_to", span.0, span.1)),
            now_ms,
        )
        .await?
        {
            return Ok(report);
        }
        let mut w = m.weekly_to;
        while w < weeks_to {
            w = p.next_week(w);
            report.weeks += 1;
        }
    }
    Ok(report)
}

fn add(total: &mut KeepReport, r: KeepReport) {
    total.projects += r.projects;
    total.hours += r.hours;
    total.days += r.days;
    total.weeks += r.weeks;
}

async fn projects(db: &Db, only: Option<&str>) -> StoreResult<Vec<(String, String, i64)>> {
    let all: Vec<(String, String, i64)> = db.all(PROJECTS, ()).await?;
    Ok(all
        .into_iter()
        .filter(|(id, ..)| only.is_none_or(|o| o == id))
        .collect())
}

/// The scheduler's job: every project's newly closed periods.
pub async fn keep(db: &Db, now_ms: i64) -> StoreResult<KeepReport> {
    let mut total = KeepReport::default();
    for (id, tz, window) in projects(db, None).await? {
        add(
            &mut total,
            keep_project(db, &id, &tz, window, now_ms).await?,
        );
    }
    Ok(total)
}

/// Recomputes closed snapshots from the raw rows: of the local days
/// `from..=to` (and the weeks holding them), or, without days, all of them.
/// Then folds what closed since, like [`keep`].
pub async fn rebuild(
    db: &Db,
    only: Option<&str>,
    days: Option<(Date, Date)>,
    now_ms: i64,
) -> StoreResult<KeepReport> {
    let mut total = KeepReport::default();
    for (id, tz, window) in projects(db, only).await? {
        let m = mark(db, &id).await?.filter(|m| m.tz == tz);
        match (days, m) {
            (Some((from, to)), Some(m)) => {
                let p = Periods::new(&tz);
                let a = p.start_of_date(from);
                let b = to
                    .tomorrow()
                    .map_or(m.hourly_to, |t| p.start_of_date(t))
                    .min(m.hourly_to);
                if a < b {
                    let rows = fold_hours(db, &id, &p, a, b).await?;
                    write(db, &id, "hourly", (a, b), &rows, None, now_ms).await?;
                    let next_day = |ms| p.next_day(ms);
                    let days = (
                        p.day_start(a),
                        ceil_to(|ms| p.day_start(ms), next_day, b).min(m.daily_to),
                    );
                    if days.0 < days.1 {
                        roll_up(db, &id, &p, ("hourly", "daily"), days, None, now_ms).await?;
                    }
                    let next_week = |ms| p.next_week(ms);
                    let weeks = (
                        p.week_start(days.0),
                        ceil_to(|ms| p.week_start(ms), next_week, days.1).min(m.weekly_to),
                    );
                    if weeks.0 < weeks.1 {
                        roll_up(db, &id, &p, ("daily", "weekly"), weeks, None, now_ms).await?;
                    }
                }
            }
            _ => {
                for sql in CLEAR {
                    db.execute(sql, (id.as_str(),)).await?;
                }
            }
        }
        add(
            &mut total,
            keep_project(db, &id, &tz, window, now_ms).await?,
        );
    }
    Ok(total)
}

/// The stored kinds a read of the whole hours `[h1, h2)` takes under `group`.
fn plan(p: &Periods, group: GroupBy, m: &Mark, h1: i64, h2: i64) -> Vec<(&'static str, i64, i64)> {
    let hours_only = vec![("hourly", h1, h2)];
    if matches!(group, GroupBy::Hour | GroupBy::DayOfWeekHour) {
        return hours_only;
    }
    let d1 = ceil_to(|ms| p.day_start(ms), |ms| p.next_day(ms), h1);
    let d2 = p.day_start(h2.min(m.daily_to));
    if d1 >= d2 {
        return hours_only;
    }
    let mut out = vec![("hourly", h1, d1), ("hourly", d2, h2)];
    let w1 = ceil_to(|ms| p.week_start(ms), |ms| p.next_week(ms), d1);
    let w2 = p.week_start(d2.min(m.weekly_to));
    if group == GroupBy::Day || w1 >= w2 {
        out.push(("daily", d1, d2));
    } else {
        out.extend([("daily", d1, w1), ("weekly", w1, w2), ("daily", w2, d2)]);
    }
    out
}

/// [`super::SupportAnalyticsStore::support_counters`]: closed snapshots
/// plus the raw fold of the edges and of the open tail (through `cache`).
#[allow(clippy::too_many_arguments)]
pub async fn counters(
    db: &Db,
    cache: &FoldCache,
    project_id: &str,
    tz: &str,
    from_ms: i64,
    to_ms: i64,
    scope: &ReportScope,
    filter: &ReportFilter,
    group: GroupBy,
) -> StoreResult<Vec<CounterRow>> {
    let p = Periods::new(tz);
    let mut groups = Groups::new();
    let m = mark(db, project_id).await?.filter(|m| m.tz == tz);
    let whole = m.as_ref().and_then(|m| {
        let h1 = ceil_to(|ms| p.hour_start(ms), |ms| p.next_hour(ms), from_ms);
        let h2 = p.hour_start(to_ms.min(m.hourly_to));
        (h1 < h2).then_some((m, h1, h2))
    });
    match whole {
        None => fold::merge(
            &mut groups,
            cache
                .fold(db, project_id, &p, from_ms, to_ms, group)
                .await?,
        ),
        Some((m, h1, h2)) => {
            let kept = Kept::for_read(scope, filter, group);
            let pinned = kept.pinned(scope, filter);
            let take = Some((kept, pinned.as_slice()));
            for (kind, a, b) in plan(&p, group, m, h1, h2) {
                for ((start, _, dims), c) in read(db, project_id, kind, (a, b), take).await? {
                    let key = fold::key_of(&p, group, start, &dims.account_id);
                    match groups.entry((key, dims)) {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(c);
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().add(&c),
                    }
                }
            }
            for (a, b) in [(from_ms, h1), (h2, to_ms)] {
                fold::merge(
                    &mut groups,
                    cache.fold(db, project_id, &p, a, b, group).await?,
                );
            }
        }
    }
    Ok(fold::rows(groups, scope, filter))
}
