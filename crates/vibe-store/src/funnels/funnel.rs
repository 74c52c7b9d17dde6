//! Funnels: an ordered list of steps and a conversion window. The conversion
//! arithmetic lives here, shared by both backends (docs/metrics.md, "Funnels").

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub const MAX_STEPS: usize = 10;
pub const MAX_WINDOW_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepMatch {
    /// A page view whose path equals the value (or starts with it, with `prefix`).
    Page,
    /// A custom event with this name.
    Event,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelStep {
    #[serde(rename = "match")]
    pub kind: StepMatch,
    pub value: String,
    #[serde(default)]
    pub prefix: bool,
    /// Display name; defaults to the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl FunnelStep {
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| match (self.kind, self.prefix) {
                (StepMatch::Page, true) => format!("{}*", self.value),
                _ => self.value.clone(),
            })
    }

    pub fn matches(&self, kind: &str, path: Option<&str>, name: Option<&str>) -> bool {
        match self.kind {
            StepMatch::Page => {
                kind == "pageview"
                    && path.is_some_and(|p| {
                        if self.prefix {
                            p.starts_with(&self.value)
                        } else {
                            p == self.value
                        }
                    })
            }
            StepMatch::Event => kind == "event" && name == Some(self.value.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    pub id: String,
    pub name: String,
    pub steps: Vec<FunnelStep>,
    pub window_days: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Row shape of `funnels`; `steps` is JSON text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FunnelRow {
    pub id: String,
    pub name: String,
    pub steps: String,
    pub window_days: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<FunnelRow> for Funnel {
    fn from(r: FunnelRow) -> Self {
        Self {
            steps: serde_json::from_str(&r.steps).unwrap_or_default(),
            id: r.id,
            name: r.name,
            window_days: r.window_days,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// An event that matches at least one step: who, when, what.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FunnelEvent {
    pub id: String,
    pub anonymous_id: Option<String>,
    pub person: String,
    pub ts: i64,
    pub kind: String,
    pub path: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub name: String,
    /// People who reached this step (in order, within the window).
    pub users: i64,
    /// Share of step 1's people who reached this step, in percent.
    pub conversion_pct: f64,
    /// Share of the previous step's people who did not reach this one, in percent.
    pub drop_off_pct: f64,
    /// Drop-off above 50 %.
    pub high_drop_off: bool,
}

/// SQL (with `?` placeholders) for the events matching any step.
pub fn events_sql(
    project_id: &str,
    steps: &[FunnelStep],
    from_ms: i64,
    to_ms: i64,
) -> (String, Vec<crate::users::SqlValue>) {
    use crate::users::SqlValue;
    let mut sql = String::from(
        "SELECT e.id, e.anonymous_id, COALESCE(a.site_user_id, u.id, 'uid:' || e.user_id) AS person, e.ts, e.kind, e.path, e.name
         FROM user_events e
         LEFT JOIN site_user_aliases a ON a.project_id = e.project_id AND a.anonymous_id = e.anonymous_id
         LEFT JOIN site_users u ON e.anonymous_id IS NULL AND u.project_id = e.project_id AND u.user_id = e.user_id
         WHERE e.project_id = ? AND e.ts >= ? AND e.ts <= ? AND (",
    );
    let mut args = vec![
        SqlValue::Text(project_id.to_owned()),
        SqlValue::Int(from_ms),
        SqlValue::Int(to_ms),
    ];
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        let (condition, value) = step_sql(step);
        sql.push_str(condition);
        args.push(SqlValue::Text(value));
    }
    sql.push(')');
    (sql, args)
}

/// The condition (over `user_events e`, one `?` placeholder) of the events a
/// step matches, and the value bound to it: the SQL form of
/// [`FunnelStep::matches`] (funnels and flows).
pub fn step_sql(step: &FunnelStep) -> (&'static str, String) {
    match (step.kind, step.prefix) {
        (StepMatch::Page, false) => ("(e.kind = 'pageview' AND e.path = ?)", step.value.clone()),
        (StepMatch::Page, true) => (
            "(e.kind = 'pageview' AND e.path LIKE ? ESCAPE '\\')",
            format!(
                "{}%",
                step.value
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ),
        ),
        (StepMatch::Event, _) => ("(e.kind = 'event' AND e.name = ?)", step.value.clone()),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// People entering the funnel are those with a step-1 event in `[from_ms, to_ms]`.
/// From each such event, later steps count only in order and within
/// `window_days`; a person counts once, with their furthest attempt.
pub fn conversion(
    steps: &[FunnelStep],
    window_days: i64,
    events: &[FunnelEvent],
    from_ms: i64,
    to_ms: i64,
) -> Vec<StepResult> {
    let window_ms = window_days * 86_400_000;
    let mut by_person: HashMap<&str, Vec<&FunnelEvent>> = HashMap::new();
    for e in events {
        by_person.entry(e.person.as_str()).or_default().push(e);
    }
    let mut reached_counts = vec![0i64; steps.len()];
    for evs in by_person.values_mut() {
        // Ties in time are broken by event id, as in the rollup (funnel_rollup).
        evs.sort_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
        let mut best = 0;
        for (i, start) in evs.iter().enumerate() {
            if start.ts < from_ms
                || start.ts > to_ms
                || !steps[0].matches(&start.kind, start.path.as_deref(), start.name.as_deref())
            {
                continue;
            }
            let deadline = start.ts + window_ms;
            let mut reached = 1;
            for e in &evs[i + 1..] {
                if reached == steps.len() || e.ts > deadline {
                    break;
                }
                if steps[reached].matches(&e.kind, e.path.as_deref(), e.name.as_deref()) {
                    reached += 1;
                }
            }
            best = best.max(reached);
            if best == steps.len() {
                break;
            }
        }
        for count in reached_counts.iter_mut().take(best) {
            *count += 1;
        }
    }
    step_results(steps, &reached_counts)
}

/// Step results from `reached[i]` = people who reached at least step `i + 1`.
pub fn step_results(steps: &[FunnelStep], reached: &[i64]) -> Vec<StepResult> {
    let first = reached.first().copied().unwrap_or(0);
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let users = reached.get(i).copied().unwrap_or(0);
            let prev = if i == 0 {
                users
            } else {
                reached.get(i - 1).copied().unwrap_or(0)
            };
            let drop_off_pct = if i == 0 || prev == 0 {
                0.0
            } else {
                round1((prev - users) as f64 / prev as f64 * 100.0)
            };
            StepResult {
                name: s.label(),
                users,
                conversion_pct: if first == 0 {
                    0.0
                } else {
                    round1(users as f64 / first as f64 * 100.0)
                },
                drop_off_pct,
                high_drop_off: drop_off_pct > 50.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(kind: StepMatch, v: &str) -> FunnelStep {
        FunnelStep {
            kind,
            value: v.into(),
            prefix: false,
            name: None,
        }
    }
    fn page(v: &str) -> FunnelStep {
        step(StepMatch::Page, v)
    }
    fn event(v: &str) -> FunnelStep {
        step(StepMatch::Event, v)
    }
    fn hit(
        person: &str,
        ts: i64,
        kind: &str,
        path: Option<&str>,
        name: Option<&str>,
    ) -> FunnelEvent {
        FunnelEvent {
            id: format!("{person}-{ts}"),
            anonymous_id: None,
            person: person.into(),
            ts,
            kind: kind.into(),
            path: path.map(Into::into),
            name: name.map(Into::into),
        }
    }
    fn pv(person: &str, ts: i64, path: &str) -> FunnelEvent {
        hit(person, ts, "pageview", Some(path), None)
    }
    fn ev(person: &str, ts: i64, name: &str) -> FunnelEvent {
        hit(person, ts, "event", None, Some(name))
    }
    const D: i64 = 86_400_000;

    #[test]
    fn steps_count_in_order_and_within_the_window() {
        let steps = [page("/"), page("/pricing"), event("signup")];
        let events = [
            pv("a", 0, "/"),
            pv("a", 10, "/pricing"),
            ev("a", 20, "signup"), // converts
            pv("b", 0, "/"),
            ev("b", 5, "signup"),
            pv("b", 10, "/pricing"), // signup before pricing: stops at 2
            pv("c", 0, "/"),
            pv("c", 8 * D, "/pricing"), // pricing after the 7-day window
            pv("d", 0, "/pricing"),
            ev("d", 1, "signup"), // never entered
            pv("e", 0, "/"),
            pv("e", 3 * D, "/"),
            pv("e", 3 * D + 1, "/pricing"),
            ev("e", 3 * D + 2, "signup"), // second attempt converts
        ];
        let r = conversion(&steps, 7, &events, 0, 10 * D);
        let users: Vec<i64> = r.iter().map(|s| s.users).collect();
        assert_eq!(users, [4, 3, 2]);
        assert_eq!(
            (r[1].conversion_pct, r[1].drop_off_pct, r[1].high_drop_off),
            (75.0, 25.0, false)
        );
        assert_eq!((r[2].conversion_pct, r[2].drop_off_pct), (50.0, 33.3));
    }

    #[test]
    fn step_one_must_fall_in_the_period_and_prefixes_match() {
        let steps = [
            FunnelStep {
                kind: StepMatch::Page,
                value: "/docs".into(),
                prefix: true,
                name: Some("Docs".into()),
            },
            event("x"),
        ];
        let events = [
            pv("a", -5, "/docs/a"),
            ev("a", 1, "x"),
            pv("b", 5, "/docs/b"),
            pv("c", 6, "/documentation"),
        ];
        let r = conversion(&steps, 7, &events, 0, 100);
        assert_eq!(
            r[0].users, 1,
            "a entered before the period; /documentation does not start with /docs"
        );
        assert_eq!(r[0].name, "Docs");
        assert_eq!(
            (r[1].users, r[1].drop_off_pct, r[1].high_drop_off),
            (0, 100.0, true)
        );
        let empty = conversion(&steps, 7, &[], 0, 100);
        assert_eq!(
            (
                empty[0].users,
                empty[0].conversion_pct,
                empty[1].drop_off_pct
            ),
            (0, 0.0, 0.0)
        );
    }
}
