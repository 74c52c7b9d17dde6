//! Calendar days in a project's time zone. Every rollup buckets time here and
//! nowhere else, so "a day" means the same thing in ingest, rebuild and queries.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub const DAY_MS: i64 = 86_400_000;

/// A project's time zone (IANA name), falling back to UTC for unknown names.
#[derive(Clone, Debug)]
pub struct ProjectTz(TimeZone);

impl ProjectTz {
    pub fn parse(name: &str) -> Option<Self> {
        if name == "UTC" {
            return Some(Self(TimeZone::UTC));
        }
        TimeZone::get(name).ok().map(Self)
    }

    pub fn or_utc(name: &str) -> Self {
        Self::parse(name).unwrap_or(Self(TimeZone::UTC))
    }

    /// The local calendar day (`YYYY-MM-DD`) of a UTC millisecond timestamp.
    pub fn day_of(&self, ts_ms: i64) -> String {
        self.date_of(ts_ms).to_string()
    }

    pub fn date_of(&self, ts_ms: i64) -> Date {
        let ts = Timestamp::from_millisecond(ts_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        self.0.to_datetime(ts).date()
    }

    /// UTC milliseconds of local midnight starting `day`.
    pub fn start_of(&self, day: Date) -> i64 {
        day.to_zoned_datetime(self.0.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or_default()
    }
}

pub fn parse_day(s: &str) -> Option<Date> {
    s.parse::<Date>().ok()
}

/// Days from `from` to `to`, both included.
pub fn days_between(from: Date, to: Date) -> Vec<Date> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to && out.len() < 3700 {
        out.push(d);
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_the_project_time_zone() {
        // 2026-03-01 23:30 UTC is already March 2nd in Amsterdam (UTC+1).
        let ts = 1_772_407_800_000;
        assert_eq!(ProjectTz::or_utc("UTC").day_of(ts), "2026-03-01");
        assert_eq!(
            ProjectTz::or_utc("Europe/Amsterdam").day_of(ts),
            "2026-03-02"
        );
        assert_eq!(
            ProjectTz::or_utc("America/New_York").day_of(ts),
            "2026-03-01"
        );
        assert!(ProjectTz::parse("Mars/Olympus").is_none());
    }

    #[test]
    fn local_midnight() {
        let tz = ProjectTz::or_utc("Europe/Amsterdam");
        let d = parse_day("2026-03-02").unwrap();
        assert_eq!(tz.start_of(d), 1_772_406_000_000);
        assert_eq!(tz.day_of(tz.start_of(d)), "2026-03-02");
        assert_eq!(tz.day_of(tz.start_of(d) - 1), "2026-03-01");
        assert_eq!(days_between(d, parse_day("2026-03-04").unwrap()).len(), 3);
    }
}
