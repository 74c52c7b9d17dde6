//! Business-hours variants of the support timers (docs/metrics.md,
//! "Support timers"): a weekly schedule of open intervals in the project's
//! time zone, and how many seconds between two instants fall inside it.
//!
//! - A schedule is `{"mon": [["09:00","17:00"], …], …}`: per weekday, open
//!   intervals of that local calendar day, `"24:00"` meaning the next
//!   midnight. An overnight shift is two intervals (`mon` `22:00–24:00`,
//!   `tue` `00:00–06:00`). A weekday not listed is closed.
//! - Each interval is turned into the two instants at which the local clock
//!   shows its opening and its closing; what is counted is the real time
//!   between those instants that also lies between the timer's start and
//!   stop. So on a spring-forward day `00:00–05:00` is open 4 hours, on a
//!   fall-back day 6 (jiff's "compatible" reading: a local time the change
//!   skips is read with the offset before it — 02:30 becomes 03:30 — and a
//!   repeated one is its first occurrence).
//! - The sum is in milliseconds, then whole seconds rounded down, like the
//!   wall-clock timers (`(stop − start) / 1000`); with no schedule the value
//!   *is* the wall-clock one.
//!
//! The values are stored when a timer stops, inside the writer's
//! transaction (`reporting::on_outbound`, `reporting::on_resolve`), with the
//! SLA policy of the conversation's priority at that moment: a later change
//! of the policy does not rewrite them.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Open intervals per weekday (Monday first), in minutes from local
/// midnight, `0 ≤ start < end ≤ 1440`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    pub days: [Vec<(u32, u32)>; 7],
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (s.len() == 5 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl WeeklyHours {
    /// The stored JSON (as the SLA API validated it); `None` when it is not
    /// a schedule (then the policy counts round the clock).
    pub fn parse(json: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(json).ok()?;
        let obj = v.as_object()?;
        let mut out = Self::default();
        for (day, spans) in obj {
            let i = DAYS.iter().position(|d| d == day)?;
            for span in spans.as_array()? {
                let pair = span.as_array()?;
                let [a, b] = pair.as_slice() else {
                    return None;
                };
                let (a, b) = (minutes(a.as_str()?)?, minutes(b.as_str()?)?);
                if a >= b {
                    return None;
                }
                out.days[i].push((a, b));
            }
        }
        Some(out)
    }
}

/// The instant the local clock of `tz` shows `minute` (0–1440) of `day`.
fn instant(tz: &TimeZone, day: Date, minute: u32) -> Option<i64> {
    let (day, minute) = if minute >= 1440 {
        (day.tomorrow().ok()?, minute - 1440)
    } else {
        (day, minute)
    };
    let t = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?;
    Some(tz.to_timestamp(day.to_datetime(t)).ok()?.as_millisecond())
}

/// Milliseconds between `from_ms` and `to_ms` (Unix ms) inside `hours` in
/// `tz`; 0 when `to_ms ≤ from_ms`.
pub fn open_ms(hours: &WeeklyHours, tz: &TimeZone, from_ms: i64, to_ms: i64) -> i64 {
    if to_ms <= from_ms {
        return 0;
    }
    let date = |ms: i64| {
        let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
        tz.to_datetime(ts).date()
    };
    let (first, last) = (date(from_ms), date(to_ms));
    let mut total = 0;
    let mut day = first;
    while day <= last {
        let weekday = day.weekday().to_monday_zero_offset() as usize;
        for &(a, b) in &hours.days[weekday] {
            let (Some(start), Some(end)) = (instant(tz, day, a), instant(tz, day, b)) else {
                continue;
            };
            let (s, e) = (start.max(from_ms), end.min(to_ms));
            if e > s {
                total += e - s;
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    total
}

/// Whole seconds of [`open_ms`]; with no schedule, the wall-clock seconds.
pub fn open_seconds(hours: Option<&WeeklyHours>, tz: &TimeZone, from_ms: i64, to_ms: i64) -> i64 {
    match hours {
        Some(h) => open_ms(h, tz, from_ms, to_ms) / 1000,
        None => (to_ms - from_ms) / 1000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: &TimeZone, s: &str) -> i64 {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        tz.to_timestamp(dt).unwrap().as_millisecond()
    }

    fn office() -> WeeklyHours {
        WeeklyHours::parse(
            r#"{"mon": [["09:00","17:00"]], "tue": [["09:00","17:00"]],
                "wed": [["09:00","12:00"], ["13:00","17:00"]], "thu": [["09:00","17:00"]],
                "fri": [["09:00","17:00"]]}"#,
        )
        .unwrap()
    }

    #[test]
    fn same_day() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let h = office();
        // Wednesday 2026-12-02: 10:00 → 14:30 with a lunch break.
        let (a, b) = (at(&tz, "2026-12-02T10:00"), at(&tz, "2026-12-02T14:30"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 2 * 3600 + 5400);
        // Before opening and after closing, same day: only the open part.
        let (a, b) = (at(&tz, "2026-12-01T07:00"), at(&tz, "2026-12-01T18:00"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 8 * 3600);
        // Wholly outside: nothing.
        let (a, b) = (at(&tz, "2026-12-01T18:00"), at(&tz, "2026-12-01T23:00"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 0);
    }

    #[test]
    fn zero_length_and_reversed() {
        let tz = TimeZone::UTC;
        let a = at(&tz, "2026-12-01T10:00");
        assert_eq!(open_seconds(Some(&office()), &tz, a, a), 0);
        assert_eq!(open_seconds(Some(&office()), &tz, a, a - 1000), 0);
        assert_eq!(open_seconds(None, &tz, a, a), 0);
    }

    #[test]
    fn overnight() {
        let tz = TimeZone::UTC;
        // Monday night shift 22:00 → Tuesday 06:00, written as two intervals.
        let h = WeeklyHours::parse(r#"{"mon": [["22:00","24:00"]], "tue": [["00:00","06:00"]]}"#)
            .unwrap();
        // 2026-11-30 is a Monday.
        let (a, b) = (at(&tz, "2026-11-30T23:30"), at(&tz, "2026-12-01T01:15"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 6300);
        // Office hours across the night count only the next opening.
        let (a, b) = (at(&tz, "2026-11-30T16:00"), at(&tz, "2026-12-01T10:00"));
        assert_eq!(open_seconds(Some(&office()), &tz, a, b), 2 * 3600);
    }

    #[test]
    fn weekend() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // Friday 2026-12-04 16:00 → Monday 2026-12-07 09:30.
        let (a, b) = (at(&tz, "2026-12-04T16:00"), at(&tz, "2026-12-07T09:30"));
        assert_eq!(open_seconds(Some(&office()), &tz, a, b), 3600 + 1800);
        // A timer started on Saturday counts from Monday's opening.
        let (a, b) = (at(&tz, "2026-12-05T12:00"), at(&tz, "2026-12-07T09:00:01"));
        assert_eq!(open_seconds(Some(&office()), &tz, a, b), 1);
    }

    #[test]
    fn daylight_saving_days() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let h = WeeklyHours::parse(r#"{"sun": [["00:00","05:00"]]}"#).unwrap();
        // 2026-03-29 (Sunday): 02:00 → 03:00, the night is an hour shorter.
        let (a, b) = (at(&tz, "2026-03-28T12:00"), at(&tz, "2026-03-30T12:00"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 4 * 3600);
        // 2026-10-25 (Sunday): 03:00 → 02:00, an hour longer.
        let (a, b) = (at(&tz, "2026-10-24T12:00"), at(&tz, "2026-10-26T12:00"));
        assert_eq!(open_seconds(Some(&h), &tz, a, b), 6 * 3600);
        // Office hours on the Monday after are unaffected.
        let (a, b) = (at(&tz, "2026-03-30T00:00"), at(&tz, "2026-03-31T00:00"));
        assert_eq!(open_seconds(Some(&office()), &tz, a, b), 8 * 3600);
    }

    #[test]
    fn round_the_clock_and_rounding() {
        let tz = TimeZone::UTC;
        assert_eq!(open_seconds(None, &tz, 0, 90_999), 90);
        let all = WeeklyHours::parse(
            r#"{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],
               "thu":[["00:00","24:00"]],"fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],
               "sun":[["00:00","24:00"]]}"#,
        )
        .unwrap();
        let a = at(&tz, "2026-12-01T10:00");
        assert_eq!(
            open_seconds(Some(&all), &tz, a, a + 3 * 86_400_000 + 999),
            3 * 86_400
        );
        assert!(WeeklyHours::parse(r#"{"mon": [["10:00","09:00"]]}"#).is_none());
        assert_eq!(WeeklyHours::parse("{}"), Some(WeeklyHours::default()));
    }
}
