//! The retention report: cohorts of a range with their size and the people
//! retained at day 1, 7 and 30, read from `daily_stats.new_users` (sizes) and
//! `retention_cohorts` — O(days in the range). Definitions and edge cases:
//! docs/metrics.md ("Retention").

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use vibe_core::day::parse_day;

use super::REPORTED_OFFSETS;
use crate::StoreResult;

/// Cohorts by first-seen local day, or by the ISO week (Monday) of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    Day,
    Week,
}

/// One cohort's row. `retained[N]` is `None` (JSON `null`) while day N is not
/// reached for every member; `pct[N]` also when the cohort is empty.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRow {
    /// The cohort's day (`cohort=week`: the week's Monday), `YYYY-MM-DD`.
    pub cohort: String,
    pub size: i64,
    pub retained: BTreeMap<String, Option<i64>>,
    pub pct: BTreeMap<String, Option<f64>>,
}

/// Retained share at day N over the cohorts that reached it, weighted by
/// size, in percent.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Overall {
    pub day1: Option<f64>,
    pub day7: Option<f64>,
    pub day30: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub cohort: Grain,
    pub from: String,
    pub to: String,
    pub cohorts: Vec<CohortRow>,
    pub overall: Overall,
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

/// The Monday of `d`'s ISO week.
pub fn monday_of(d: Date) -> Date {
    add_days(d, -i64::from(d.weekday().to_monday_zero_offset()))
}

/// `part / whole` in percent, one decimal; `None` for an empty whole.
pub fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The cohort range `from..=to` actually covered: whole weeks for `Week`.
pub fn cover(grain: Grain, from: Date, to: Date) -> (Date, Date) {
    match grain {
        Grain::Day => (from, to),
        Grain::Week => (monday_of(from), add_days(monday_of(to), 6)),
    }
}

/// The report of cohorts `from..=to` (widened to whole weeks for `Week`), as
/// of local day `today`.
pub async fn report(
    store: &dyn crate::Store,
    project_id: &str,
    grain: Grain,
    from: Date,
    to: Date,
    today: Date,
) -> StoreResult<Report> {
    let (from, to) = cover(grain, from, to);
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let sizes: HashMap<Date, i64> = store
        .daily_stats(project_id, &from_s, &to_s)
        .await?
        .into_iter()
        .filter_map(|r| Some((parse_day(&r.day)?, r.counts.new_users)))
        .collect();
    let mut cells: HashMap<(Date, i64), i64> = HashMap::new();
    for c in store.retention_cells(project_id, &from_s, &to_s).await? {
        if let Some(d) = parse_day(&c.cohort_day) {
            cells.insert((d, c.offset_days), c.people);
        }
    }

    let span = if grain == Grain::Day { 1 } else { 7 };
    // (size, retained per reported offset) of each cohort.
    let mut rows: Vec<(Date, i64, Vec<Option<i64>>)> = Vec::new();
    let mut start = from;
    while start <= to {
        let days: Vec<Date> = (0..span).map(|i| add_days(start, i)).collect();
        // The last day on which a member of this cohort can have been first
        // seen so far: day N is reached when it is reached for that day too.
        let last_member_day = days[days.len() - 1].min(today);
        let size = days.iter().filter_map(|d| sizes.get(d)).sum();
        let retained = REPORTED_OFFSETS
            .iter()
            .map(|n| {
                (start <= today && add_days(last_member_day, *n) <= today).then(|| {
                    days.iter()
                        .filter_map(|d| cells.get(&(*d, *n)))
                        .sum::<i64>()
                })
            })
            .collect();
        rows.push((start, size, retained));
        start = add_days(start, span);
    }

    let overall_at = |i: usize| {
        let (kept, base) = rows
            .iter()
            .filter_map(|(_, size, r)| Some((r[i]?, *size)))
            .fold((0, 0), |(k, b), (r, s)| (k + r, b + s));
        pct(kept, base)
    };
    let overall = Overall {
        day1: overall_at(0),
        day7: overall_at(1),
        day30: overall_at(2),
    };
    let cohorts = rows
        .into_iter()
        .map(|(start, size, retained)| {
            let keys = REPORTED_OFFSETS.iter().map(|n| n.to_string());
            CohortRow {
                cohort: start.to_string(),
                size,
                pct: keys
                    .clone()
                    .zip(&retained)
                    .map(|(k, r)| (k, r.and_then(|r| pct(r, size))))
                    .collect(),
                retained: keys.zip(retained).collect(),
            }
        })
        .collect();
    Ok(Report {
        cohort: grain,
        from: from_s,
        to: to_s,
        cohorts,
        overall,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let sunday = parse_day("2027-01-17").unwrap();
        assert_eq!(monday_of(sunday).to_string(), "2027-01-11");
        let monday = parse_day("2027-01-11").unwrap();
        assert_eq!(monday_of(monday), monday);
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(pct(1, 3), Some(33.3));
        assert_eq!(pct(2, 3), Some(66.7));
        assert_eq!(pct(0, 0), None);
    }
}
