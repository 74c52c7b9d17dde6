//! Local periods of the project's time zone: hours, days and ISO weeks, each
//! named by the UTC millisecond of its local start. A local day is 23, 24 or
//! 25 hours long across a DST change, and the repeated local hour of an
//! autumn change is two distinct hour periods (two UTC starts), both of
//! hour-of-day 2 (say). Every piece of support analytics buckets time here.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

pub const HOUR_MS: i64 = 3_600_000;

#[derive(Clone, Debug)]
pub struct Periods {
    tz: TimeZone,
}

impl Periods {
    /// The IANA zone `name`, UTC for unknown names (like `ProjectTz`).
    pub fn new(name: &str) -> Self {
        let tz = if name == "UTC" {
            TimeZone::UTC
        } else {
            TimeZone::get(name).unwrap_or(TimeZone::UTC)
        };
        Self { tz }
    }

    fn ts(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn offset_ms(&self, ms: i64) -> i64 {
        i64::from(self.tz.to_offset(Self::ts(ms)).seconds()) * 1000
    }

    /// Start of the local hour holding `ms`: the hour is floored in the
    /// offset in force at `ms`, so zones at :30 or :45 get their own hours.
    pub fn hour_start(&self, ms: i64) -> i64 {
        ms - (ms + self.offset_ms(ms)).rem_euclid(HOUR_MS)
    }

    /// Start of the local hour after the one starting at `start`.
    pub fn next_hour(&self, start: i64) -> i64 {
        let next = self.hour_start(start + HOUR_MS);
        if next > start {
            next
        } else {
            start + HOUR_MS
        }
    }

    /// The local calendar date of `ms`.
    pub fn date_of(&self, ms: i64) -> Date {
        self.tz.to_datetime(Self::ts(ms)).date()
    }

    /// UTC ms of the first instant of local `date` (midnight, or the first
    /// valid time when a change skips midnight).
    pub fn start_of_date(&self, date: Date) -> i64 {
        date.to_zoned_datetime(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or_default()
    }

    pub fn day_start(&self, ms: i64) -> i64 {
        self.start_of_date(self.date_of(ms))
    }

    pub fn next_day(&self, start: i64) -> i64 {
        let d = self.date_of(start);
        d.tomorrow()
            .map(|t| self.start_of_date(t))
            .unwrap_or(start + 24 * HOUR_MS)
    }

    /// Start of the local ISO week (Monday) holding `ms`.
    pub fn week_start(&self, ms: i64) -> i64 {
        let d = self.date_of(ms);
        let back = i64::from(d.weekday().to_monday_zero_offset());
        let monday = d.checked_sub(back.days()).unwrap_or(d);
        self.start_of_date(monday)
    }

    pub fn next_week(&self, start: i64) -> i64 {
        let d = self.date_of(start);
        d.checked_add(7.days())
            .map(|t| self.start_of_date(t))
            .unwrap_or(start + 7 * 24 * HOUR_MS)
    }

    /// Local hour of day, 0–23.
    pub fn hour_of_day(&self, ms: i64) -> i64 {
        i64::from(self.tz.to_datetime(Self::ts(ms)).hour())
    }

    /// Local day of week, 0 = Sunday … 6 = Saturday (the API's heatmap).
    pub fn day_of_week(&self, ms: i64) -> i64 {
        i64::from(self.date_of(ms).weekday().to_sunday_zero_offset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-03-28 is the spring change in Stockholm (02:00 → 03:00), so
    /// that local day has 23 hours; 2027-10-31 has 25.
    #[test]
    fn stockholm_days_have_23_and_25_hours() {
        let p = Periods::new("Europe/Stockholm");
        let spring = p.start_of_date("2027-03-28".parse().unwrap());
        assert_eq!(p.next_day(spring) - spring, 23 * HOUR_MS);
        let autumn = p.start_of_date("2027-10-31".parse().unwrap());
        assert_eq!(p.next_day(autumn) - autumn, 25 * HOUR_MS);
        // The day has 25 distinct hour periods, two of them hour-of-day 2.
        let (mut h, mut n, mut twos) = (autumn, 0, 0);
        while h < p.next_day(autumn) {
            assert_eq!(p.hour_start(h + 1), h);
            twos += i32::from(p.hour_of_day(h) == 2);
            h = p.next_hour(h);
            n += 1;
        }
        assert_eq!((n, twos), (25, 2));
        // Weeks start on local Mondays.
        let w = p.week_start(autumn);
        assert_eq!(p.date_of(w).to_string(), "2027-10-25");
        assert_eq!(p.next_week(w) - w, (7 * 24 + 1) * HOUR_MS);
        assert_eq!(p.day_of_week(autumn), 0);
    }

    #[test]
    fn half_hour_zones_have_their_own_hours() {
        let p = Periods::new("Asia/Kolkata");
        let ms = 1_800_000_000_000; // 2027-01-15 08:00 UTC = 13:30 IST
        assert_eq!(p.hour_start(ms), ms - 30 * 60_000);
        assert_eq!(p.hour_of_day(ms), 13);
    }
}
