//! `GET /projects/{id}/retention`: cohorts by first-seen day or week, retained
//! at day 1/7/30 with `null` for days not reached, bad parameters, roles and
//! other tenants.

use jiff::civil::Date;
use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_core::day::ProjectTz;
use vibe_store::{Project, Role};

use crate::helpers::*;

const DAY: i64 = 86_400_000;

async fn track_at(app: &TestApp, secret: &str, user: &str, ts: i64) {
    let event =
        json!({"type": "event", "id": uuid(), "user_id": user, "name": "used_it", "ts": ts});
    let res = app
        .post_bearer(secret, "/api/v1/track", json!({ "batch": [event] }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

fn back(d: Date, n: i64) -> Date {
    d.checked_sub(jiff::Span::new().days(n)).unwrap()
}

/// u1, u2, u3 first seen ten days ago; u1 back the next day, u2 a week later.
async fn history(app: &TestApp, owner: &Session, p: &Project) -> Date {
    let secret = app.secret_key(owner, &p.id, "k").await;
    let tz = ProjectTz::or_utc(&p.timezone);
    let now = app.clock.now_ms();
    let today = tz.date_of(now);
    let day0 = tz.start_of(back(today, 10)) + 3_600_000;
    for u in ["u1", "u2", "u3"] {
        track_at(app, &secret, u, day0).await;
    }
    track_at(app, &secret, "u1", day0 + DAY).await;
    track_at(app, &secret, "u2", day0 + 7 * DAY).await;
    today
}

async fn day_cohorts_report_retained_people_and_null_for_days_not_reached(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let today = history(&app, &owner, &p).await;
    let c = back(today, 10);
    let base = format!("/api/v1/projects/{}/retention", p.id);
    let r = app
        .get_json(&owner, &format!("{base}?cohort=day&from={c}&to={c}"))
        .await;
    assert_eq!(
        r["cohorts"],
        json!([{
            "cohort": c.to_string(),
            "size": 3,
            "retained": {"1": 1, "7": 1, "30": null},
            "pct": {"1": 33.3, "7": 33.3, "30": null},
        }]),
        "{r}"
    );
    assert_eq!(
        r["overall"],
        json!({"day1": 33.3, "day7": 33.3, "day30": null})
    );
    assert_eq!(
        (&r["cohort"], &r["from"], &r["to"]),
        (&json!("day"), &json!(c.to_string()), &json!(c.to_string()))
    );

    // By default the last 30 days; today's cohort has not reached day 1.
    let r = app.get_json(&owner, &base).await;
    let cohorts = list(&r, "cohorts");
    assert_eq!(cohorts.len(), 30);
    let last = cohorts.last().unwrap();
    assert_eq!(last["cohort"], json!(today.to_string()));
    assert_eq!(last["retained"]["1"], Value::Null);
    assert_eq!(last["size"], 0);
    assert_eq!(
        r["overall"]["day1"],
        json!(33.3),
        "empty cohorts weigh nothing"
    );
}

async fn week_cohorts_start_on_monday(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let today = history(&app, &owner, &p).await;
    let c = back(today, 10);
    let monday = back(c, i64::from(c.weekday().to_monday_zero_offset()));
    let sunday = monday.checked_add(jiff::Span::new().days(6)).unwrap();
    let base = format!("/api/v1/projects/{}/retention", p.id);
    let r = app
        .get_json(&owner, &format!("{base}?cohort=week&from={c}&to={c}"))
        .await;
    assert_eq!(
        (&r["from"], &r["to"]),
        (&json!(monday.to_string()), &json!(sunday.to_string()))
    );
    let cohorts = list(&r, "cohorts");
    assert_eq!(cohorts.len(), 1, "{r}");
    assert_eq!(cohorts[0]["cohort"], json!(monday.to_string()));
    assert_eq!(cohorts[0]["size"], 3);
    assert_eq!(cohorts[0]["retained"]["1"], 1);
    // Day 7 of a week cohort is reached once it is for the week's Sunday.
    let reached = sunday.checked_add(jiff::Span::new().days(7)).unwrap() <= today;
    let seven = if reached { json!(1) } else { Value::Null };
    assert_eq!(cohorts[0]["retained"]["7"], seven, "{r}");
    assert_eq!(cohorts[0]["retained"]["30"], Value::Null);

    // The default is the last 12 weeks, the current one last.
    let r = app.get_json(&owner, &format!("{base}?cohort=week")).await;
    let cohorts = list(&r, "cohorts");
    assert_eq!(cohorts.len(), 12);
    let this_week = back(today, i64::from(today.weekday().to_monday_zero_offset()));
    assert_eq!(cohorts[11]["cohort"], json!(this_week.to_string()));
    assert_eq!(cohorts[11]["retained"]["1"], Value::Null);
}

async fn bad_parameters_name_the_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/retention", p.id);
    for (q, field) in [
        ("cohort=month", "cohort"),
        ("cohort=", "cohort"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "from"),
    ] {
        assert_invalid(app.get(&owner, &format!("{base}?{q}")).await, field).await;
    }
}

async fn viewers_read_and_other_tenants_get_404(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let viewer = app.as_role(Role::Viewer).await;
    history(&app, &owner, &p).await;
    let r = app
        .get_json(&viewer, &format!("/api/v1/projects/{}/retention", p.id))
        .await;
    assert_eq!(r["overall"]["day1"], json!(33.3));

    let b = app.create_project(&owner, "Bravo").await;
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let res = app
        .get(&outsider, &format!("/api/v1/projects/{}/retention", b.id))
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

crate::on_both_backends!(
    day_cohorts_report_retained_people_and_null_for_days_not_reached,
    week_cohorts_start_on_monday,
    bad_parameters_name_the_field,
    viewers_read_and_other_tenants_get_404,
);
