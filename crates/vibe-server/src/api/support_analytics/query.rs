//! The query every Support analytics route takes: the date range
//! (`date_range=today|week|month`, or `start_date`/`end_date`, inclusive
//! local days of the project's time zone), the previous period of the same
//! length just before it, and the `agent_id`, `team_id`, `channel` filters.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::Span;
use serde_json::{json, Value};
use vibe_core::day::{parse_day, ProjectTz};
use vibe_store::inbox::Channel;
use vibe_store::support_analytics::ReportFilter;

use crate::error::{ApiError, ApiResult};

/// Longest custom range, in days (a year and a day, like `stats/daily`).
const MAX_DAYS: i64 = 366;

/// A half-open interval of whole local days, `[from_ms, to_ms)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub first_day: Date,
    pub last_day: Date,
    pub from_ms: i64,
    pub to_ms: i64,
}

impl Period {
    pub fn of_days(tz: &ProjectTz, first_day: Date, last_day: Date) -> Self {
        let next = last_day.tomorrow().unwrap_or(last_day);
        Self {
            first_day,
            last_day,
            from_ms: tz.start_of(first_day),
            to_ms: tz.start_of(next),
        }
    }

    pub fn days(&self) -> i64 {
        vibe_core::day::days_between(self.first_day, self.last_day).len() as i64
    }

    /// The period of the same number of days ending the day before.
    pub fn previous(&self, tz: &ProjectTz) -> Self {
        let n = self.days();
        let last = self.first_day.yesterday().unwrap_or(self.first_day);
        let first = last.checked_sub(Span::new().days(n - 1)).unwrap_or(last);
        Self::of_days(tz, first, last)
    }

    /// `n` local days ending today (1 = today).
    pub fn last_days(tz: &ProjectTz, today: Date, n: i64) -> Self {
        let first = today.checked_sub(Span::new().days(n - 1)).unwrap_or(today);
        Self::of_days(tz, first, today)
    }
}

#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub tz_name: String,
    pub tz: ProjectTz,
    pub today: Date,
    pub period: Period,
    pub previous: Period,
    pub filter: ReportFilter,
}

impl ReportQuery {
    pub fn parse(q: &HashMap<String, String>, tz_name: &str, now_ms: i64) -> ApiResult<Self> {
        let tz = ProjectTz::or_utc(tz_name);
        let today = tz.date_of(now_ms);
        let period = period(q, &tz, today)?;
        let previous = period.previous(&tz);
        let text = |name: &str| -> ApiResult<Option<String>> {
            match q.get(name).map(|v| v.trim()) {
                None | Some("") => Ok(None),
                Some(v) if v.len() > 200 => Err(ApiError::field(
                    "invalid_field",
                    name,
                    "at most 200 characters",
                )),
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
        let channel = match text("channel")? {
            None => None,
            Some(c) => Some(
                Channel::parse(&c)
                    .ok_or_else(|| {
                        ApiError::field(
                            "invalid_field",
                            "channel",
                            format!("one of {}", Channel::NAMES),
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        Ok(Self {
            tz_name: tz_name.to_owned(),
            tz,
            today,
            period,
            previous,
            filter: ReportFilter {
                account_id: text("agent_id")?,
                team_id: text("team_id")?,
                channel,
            },
        })
    }

    /// `range` of every response.
    pub fn range_json(&self) -> Value {
        json!({
            "from": self.period.first_day.to_string(),
            "to": self.period.last_day.to_string(),
            "from_ms": self.period.from_ms,
            "to_ms": self.period.to_ms,
            "tz": self.tz_name,
        })
    }
}

fn period(q: &HashMap<String, String>, tz: &ProjectTz, today: Date) -> ApiResult<Period> {
    let day = |field: &str| -> ApiResult<Option<Date>> {
        match q.get(field) {
            None => Ok(None),
            Some(v) => parse_day(v).map(Some).ok_or_else(|| {
                ApiError::field("invalid_field", field, "must be a date like 2026-01-31")
            }),
        }
    };
    match (day("start_date")?, day("end_date")?) {
        (None, None) => {}
        (Some(first), Some(last)) => {
            if first > last {
                return Err(ApiError::field(
                    "invalid_field",
                    "start_date",
                    "must not be after `end_date`",
                ));
            }
            let p = Period::of_days(tz, first, last);
            if p.days() > MAX_DAYS {
                return Err(ApiError::field(
                    "invalid_field",
                    "start_date",
                    format!("the range may cover at most {MAX_DAYS} days"),
                ));
            }
            return Ok(p);
        }
        (None, Some(_)) => {
            return Err(ApiError::field(
                "missing_field",
                "start_date",
                "`end_date` needs `start_date`",
            ))
        }
        (Some(_), None) => {
            return Err(ApiError::field(
                "missing_field",
                "end_date",
                "`start_date` needs `end_date`",
            ))
        }
    }
    let days = match q.get("date_range").map(String::as_str) {
        None | Some("today") => 1,
        Some("week") => 7,
        Some("month") => 30,
        Some(_) => {
            return Err(ApiError::field(
                "invalid_field",
                "date_range",
                "`today`, `week` or `month`",
            ))
        }
    };
    Ok(Period::last_days(tz, today, days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn week_is_seven_local_days_and_the_previous_week_before() {
        let tz = ProjectTz::or_utc("UTC");
        let today: Date = "2026-03-10".parse().unwrap();
        let p = period(&q(&[("date_range", "week")]), &tz, today).unwrap();
        assert_eq!(p.first_day.to_string(), "2026-03-04");
        let prev = p.previous(&tz);
        assert_eq!(
            (prev.first_day.to_string(), prev.last_day.to_string()),
            ("2026-02-25".into(), "2026-03-03".into())
        );
        assert_eq!(prev.to_ms, p.from_ms);
    }

    #[test]
    fn custom_range_is_inclusive_and_validated() {
        let tz = ProjectTz::or_utc("Europe/Berlin");
        let today: Date = "2026-03-10".parse().unwrap();
        let p = period(
            &q(&[("start_date", "2026-03-01"), ("end_date", "2026-03-02")]),
            &tz,
            today,
        )
        .unwrap();
        assert_eq!(p.to_ms - p.from_ms, 2 * 86_400_000);
        assert!(period(&q(&[("start_date", "2026-03-02")]), &tz, today).is_err());
        assert!(period(&q(&[("date_range", "year")]), &tz, today).is_err());
        assert!(period(
            &q(&[("start_date", "2026-03-03"), ("end_date", "2026-03-02")]),
            &tz,
            today
        )
        .is_err());
    }
}
