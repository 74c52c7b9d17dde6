//! Every analytics definition the API and dashboard show, in one place; the
//! prose version is docs/metrics.md. Inputs come from rollups only (`daily_stats`,
//! `user_days`, session indexes), so cost never grows with raw event count.

use jiff::civil::Date;
use serde::Serialize;
use vibe_core::day::ProjectTz;
use vibe_store::rollup::DailyStats;
use vibe_store::{Project, Store, StoreResult};

/// A metric card: this week's value, the same card one week earlier, and the
/// week-over-week change in percent (`None` when `previous` is 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Card {
    pub value: f64,
    pub previous: f64,
    pub trend_pct: Option<f64>,
}

impl Card {
    pub fn new(value: f64, previous: f64) -> Self {
        Self {
            value,
            previous,
            trend_pct: trend_pct(value, previous),
        }
    }
}

pub fn trend_pct(value: f64, previous: f64) -> Option<f64> {
    (previous != 0.0).then(|| round1((value - previous) / previous * 100.0))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub total_users: Card,
    pub online_now: Card,
    pub new_this_week: Card,
    pub churn_rate: Card,
}

const WEEK_MS: i64 = 7 * 86_400_000;

fn minus_days(d: Date, n: i64) -> Date {
    d.checked_sub(jiff::Span::new().days(n)).unwrap_or(d)
}

/// Metric cards at `now_ms`. Weeks are the 7 local days ending today, and the 7
/// before those.
pub async fn metrics(store: &dyn Store, project: &Project, now_ms: i64) -> StoreResult<Metrics> {
    let tz = ProjectTz::or_utc(&project.timezone);
    let today = tz.date_of(now_ms);
    let day = |n: i64| minus_days(today, n).to_string();
    let window_ms = project.online_window_s * 1000;

    let rows = store
        .daily_stats(&project.id, "0000-01-01", &day(0))
        .await?;
    let new_users = |from: &str, to: &str| -> i64 {
        rows.iter()
            .filter(|r| r.day.as_str() >= from && r.day.as_str() <= to)
            .map(|r| r.counts.new_users)
            .sum()
    };
    let total_now = new_users("0000-01-01", &day(0));
    let total_before = new_users("0000-01-01", &day(7));

    let online_now = store.count_online(&project.id, now_ms - window_ms).await?;
    let online_before = store
        .online_at(&project.id, now_ms - WEEK_MS, window_ms)
        .await?;

    // Kept per day at ingest: people active in d−13 … d−7, and those of them not
    // active in d−6 … d.
    let churn = |d: String| {
        rows.iter().find(|r| r.day == d).map_or(0.0, |r| {
            let c = &r.counts;
            if c.churn_base == 0 {
                0.0
            } else {
                round1(c.churned as f64 / c.churn_base as f64 * 100.0)
            }
        })
    };
    let churn_now = churn(day(0));
    let churn_before = churn(day(7));

    Ok(Metrics {
        total_users: Card::new(total_now as f64, total_before as f64),
        online_now: Card::new(online_now as f64, online_before as f64),
        new_this_week: Card::new(
            new_users(&day(6), &day(0)) as f64,
            new_users(&day(13), &day(7)) as f64,
        ),
        churn_rate: Card::new(churn_now, churn_before),
    })
}

/// One day of `GET …/stats/daily`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    pub date: String,
    pub active_users: i64,
    pub new_users: i64,
    pub sessions: i64,
    pub pageviews: i64,
    pub events: i64,
    /// Mean duration of the sessions that started that day, in seconds.
    pub avg_session_s: f64,
    /// Share of that day's sessions with at most one page view, in percent.
    pub bounce_rate: f64,
}

impl Day {
    pub fn from_stats(date: String, s: Option<&DailyStats>) -> Self {
        let s = s.map(|s| s.counts).unwrap_or_default();
        let per_session = |x: i64| {
            if s.sessions == 0 {
                0.0
            } else {
                x as f64 / s.sessions as f64
            }
        };
        Self {
            date,
            active_users: s.active_users,
            new_users: s.new_users,
            sessions: s.sessions,
            pageviews: s.pageviews,
            events: s.events,
            avg_session_s: round1(per_session(s.session_ms) / 1000.0),
            bounce_rate: round1(per_session(s.bounces) * 100.0),
        }
    }
}

/// Every day from `from` to `to` (inclusive), zeros where nothing happened.
pub async fn daily(
    store: &dyn Store,
    project: &Project,
    from: Date,
    to: Date,
) -> StoreResult<Vec<Day>> {
    let rows = store
        .daily_stats(&project.id, &from.to_string(), &to.to_string())
        .await?;
    Ok(vibe_core::day::days_between(from, to)
        .into_iter()
        .map(|d| {
            let date = d.to_string();
            let row = rows.iter().find(|r| r.day == date);
            Day::from_stats(date, row)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vibe_store::rollup::DailyDelta;

    #[test]
    fn trend_is_relative_to_previous_and_null_without_one() {
        assert_eq!(trend_pct(150.0, 100.0), Some(50.0));
        assert_eq!(trend_pct(50.0, 100.0), Some(-50.0));
        assert_eq!(trend_pct(3.0, 0.0), None);
        assert_eq!(trend_pct(0.0, 0.0), None);
        assert_eq!(trend_pct(1.0, 3.0), Some(-66.7));
    }

    #[test]
    fn day_ratios() {
        let s = DailyStats {
            day: "2026-01-01".into(),
            counts: DailyDelta {
                sessions: 4,
                session_ms: 90_000,
                bounces: 1,
                ..Default::default()
            },
        };
        let d = Day::from_stats(s.day.clone(), Some(&s));
        assert_eq!((d.avg_session_s, d.bounce_rate), (22.5, 25.0));
        let empty = Day::from_stats("2026-01-02".into(), None);
        assert_eq!(
            (empty.sessions, empty.avg_session_s, empty.bounce_rate),
            (0, 0.0, 0.0)
        );
    }
}
