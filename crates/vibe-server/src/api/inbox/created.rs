//! The Inbox list's creation-time filter (the Support page's heatmap cell
//! drills down with it): `created_from` and `created_to` — each a Unix ms
//! instant, an RFC 3339 timestamp or a local date of the project's time
//! zone (`created_from` its first instant, `created_to` through its end) —
//! and `created_dow` (0 = Sunday … 6) and `created_hour` (0–23), local to
//! the project's time zone, which need both ends of the range.
//!
//! A local weekday and hour is not evaluated in SQL: each database would
//! need its own zone conversion (and ships its own zone rules). The server
//! expands the cell into the UTC windows `[start, end)` of every matching
//! local hour of the range instead, in the periods the heatmap itself
//! counts in (`vibe_store::support_analytics::periods`: a spring day has
//! no 02:00 hour, the repeated autumn 02:00 hour is two periods of one
//! window), and the store matches `created_at` against their OR. A range
//! has at most [`MAX_DAYS`] local days, so at most one window per day (an
//! hour alone) or per week (a weekday).

use std::collections::HashMap;

use jiff::Timestamp;
use vibe_core::day::parse_day;
use vibe_store::support_analytics::periods::Periods;

use crate::api::query::int_value_in;
use crate::error::{ApiError, ApiResult};

/// The longest range a weekday or hour is expanded over, in local days.
pub const MAX_DAYS: i64 = 400;

const INSTANT: &str = "a Unix time in ms, an RFC 3339 timestamp or a date like 2026-01-31";

/// The windows the query names (`None`: no creation filter). Empty values
/// count as absent, like the list's other filters.
pub fn parse(q: &HashMap<String, String>, tz: &str) -> ApiResult<Option<Vec<(i64, i64)>>> {
    let some = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let p = Periods::new(tz);
    let from = some("created_from")
        .map(|v| instant("created_from", v, &p, false))
        .transpose()?;
    let to = some("created_to")
        .map(|v| instant("created_to", v, &p, true))
        .transpose()?;
    let dow = some("created_dow")
        .map(|v| int_value_in("created_dow", v, 0..=6))
        .transpose()?;
    let hour = some("created_hour")
        .map(|v| int_value_in("created_hour", v, 0..=23))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(ApiError::field(
                "invalid_field",
                "created_to",
                "must be after `created_from`",
            ));
        }
    }
    if dow.is_none() && hour.is_none() {
        return Ok(match (from, to) {
            (None, None) => None,
            (f, t) => Some(vec![(f.unwrap_or(i64::MIN), t.unwrap_or(i64::MAX))]),
        });
    }
    let cell = if dow.is_some() {
        "created_dow"
    } else {
        "created_hour"
    };
    let need = |field: &str| {
        ApiError::field(
            "missing_field",
            field,
            format!("`{cell}` needs a range: `created_from` and `created_to`"),
        )
    };
    let from = from.ok_or_else(|| need("created_from"))?;
    let to = to.ok_or_else(|| need("created_to"))?;
    let days = p
        .date_of(from)
        .until(p.date_of(to - 1))
        .map(|s| i64::from(s.get_days()) + 1)
        .unwrap_or(i64::MAX);
    if days > MAX_DAYS {
        return Err(ApiError::field(
            "invalid_field",
            "created_to",
            format!("with `{cell}` the range may cover at most {MAX_DAYS} days"),
        ));
    }
    Ok(Some(windows(&p, from, to, dow, hour)))
}

/// `value` as UTC ms: a number is ms, a date its local start (`end`: the
/// start of the next day, so the date is included), else RFC 3339.
fn instant(field: &str, value: &str, p: &Periods, end: bool) -> ApiResult<i64> {
    let bad = || ApiError::field("invalid_field", field, format!("must be {INSTANT}"));
    if let Ok(ms) = value.parse::<i64>() {
        return Timestamp::from_millisecond(ms)
            .map(|_| ms)
            .map_err(|_| bad());
    }
    // Only a bare date (a timestamp would parse as its date too).
    if let Some(day) = parse_day(value).filter(|_| value.len() == 10) {
        let day = if end {
            day.tomorrow().map_err(|_| bad())?
        } else {
            day
        };
        return Ok(p.start_of_date(day));
    }
    value
        .parse::<Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| bad())
}

/// The UTC windows of `[from, to)` whose local day of week is `dow` and
/// local hour `hour` (either may be any), adjacent ones merged, in order.
pub fn windows(
    p: &Periods,
    from: i64,
    to: i64,
    dow: Option<i64>,
    hour: Option<i64>,
) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    let mut push = |s: i64, e: i64| {
        let (s, e) = (s.max(from), e.min(to));
        if s >= e {
            return;
        }
        match out.last_mut() {
            Some(last) if last.1 == s => last.1 = e,
            _ => out.push((s, e)),
        }
    };
    let mut day = p.day_start(from);
    while day < to {
        let next = p.next_day(day);
        if dow.is_none_or(|d| p.day_of_week(day) == d) {
            match hour {
                None => push(day, next),
                Some(h) => {
                    let mut at = day;
                    while at < next {
                        let end = p.next_hour(at);
                        if p.hour_of_day(at) == h {
                            push(at, end);
                        }
                        at = end;
                    }
                }
            }
        }
        day = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn utc(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn field_of(e: ApiError) -> Option<String> {
        match e {
            ApiError::Client { field, .. } => field,
            _ => None,
        }
    }

    /// Stockholm's spring change (2027-03-28, a Sunday): Monday 09:00 is
    /// 08:00 UTC before it and 07:00 UTC after.
    #[test]
    fn a_weekday_hour_follows_the_offset_across_a_change() {
        let w = parse(
            &q(&[
                ("created_from", "2027-03-22"),
                ("created_to", "2027-04-04"),
                ("created_dow", "1"),
                ("created_hour", "9"),
            ]),
            "Europe/Stockholm",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            w,
            vec![
                (utc("2027-03-22T08:00:00Z"), utc("2027-03-22T09:00:00Z")),
                (utc("2027-03-29T07:00:00Z"), utc("2027-03-29T08:00:00Z")),
            ]
        );
    }

    /// The skipped spring hour has no window; the repeated autumn hour is
    /// two hours of UTC (2027-10-31, a Sunday); a whole weekday is one.
    #[test]
    fn skipped_and_repeated_hours() {
        let p = Periods::new("Europe/Stockholm");
        let march = (utc("2027-03-27T23:00:00Z"), utc("2027-03-28T22:00:00Z"));
        assert_eq!(windows(&p, march.0, march.1, Some(0), Some(2)), vec![]);
        let oct = (utc("2027-10-30T22:00:00Z"), utc("2027-10-31T23:00:00Z"));
        assert_eq!(
            windows(&p, oct.0, oct.1, Some(0), Some(2)),
            vec![(utc("2027-10-31T00:00:00Z"), utc("2027-10-31T02:00:00Z"))]
        );
        assert_eq!(
            windows(&p, oct.0, oct.1, Some(0), None),
            vec![(oct.0, oct.1)]
        );
        assert_eq!(windows(&p, oct.0, oct.1, Some(1), None), vec![]);
        // An hour alone: one window per day, clipped to the range.
        let w = windows(&p, oct.0 + 30 * 60_000, oct.0 + 48 * H, None, Some(0));
        assert_eq!(
            w,
            vec![
                (oct.0 + 30 * 60_000, oct.0 + H),
                (utc("2027-10-31T23:00:00Z"), utc("2027-11-01T00:00:00Z")),
            ]
        );
    }

    #[test]
    fn ranges_alone_and_forms_of_instants() {
        assert_eq!(parse(&q(&[]), "UTC").unwrap(), None);
        assert_eq!(
            parse(&q(&[("created_from", "1000"), ("created_to", "")]), "UTC").unwrap(),
            Some(vec![(1000, i64::MAX)])
        );
        let t = parse(&q(&[("created_to", "2027-01-15T08:00:00+01:00")]), "UTC").unwrap();
        assert_eq!(t, Some(vec![(i64::MIN, utc("2027-01-15T07:00:00Z"))]));
        // A date is the project's local day, `created_to` through its end.
        let d = parse(
            &q(&[("created_from", "2027-01-15"), ("created_to", "2027-01-15")]),
            "Europe/Berlin",
        )
        .unwrap();
        assert_eq!(
            d,
            Some(vec![(
                utc("2027-01-14T23:00:00Z"),
                utc("2027-01-15T23:00:00Z")
            )])
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[("created_from", "yesterday")], "created_from"),
            (&[("created_to", "2027-02-30")], "created_to"),
            (&[("created_from", "5"), ("created_to", "5")], "created_to"),
            (&[("created_dow", "7")], "created_dow"),
            (&[("created_hour", "-1")], "created_hour"),
            (
                &[("created_hour", "3"), ("created_to", "9")],
                "created_from",
            ),
            (&[("created_dow", "3"), ("created_from", "9")], "created_to"),
            (
                &[
                    ("created_dow", "3"),
                    ("created_from", "2026-01-01"),
                    ("created_to", "2027-02-05"),
                ],
                "created_to",
            ),
        ];
        for (pairs, field) in cases {
            let e = parse(&q(pairs), "UTC").unwrap_err();
            assert_eq!(field_of(e).as_deref(), Some(field), "{pairs:?}");
        }
        // 400 local days is the most.
        assert!(parse(
            &q(&[
                ("created_hour", "3"),
                ("created_from", "2026-01-01"),
                ("created_to", "2027-02-04"),
            ]),
            "UTC"
        )
        .is_ok());
    }
}
