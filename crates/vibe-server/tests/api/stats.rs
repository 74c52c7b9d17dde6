use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

const DAY: i64 = 86_400_000;

/// Server-side events for `user` at `ts` (past timestamps are kept).
async fn track_at(app: &TestApp, secret: &str, user: &str, ts: i64) {
    let event =
        json!({"type": "event", "id": uuid(), "user_id": user, "name": "did_something", "ts": ts});
    let res = app
        .post_bearer(secret, "/api/v1/track", json!({ "batch": [event] }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

fn card(m: &Value, name: &str) -> (f64, f64, Option<f64>) {
    let c = &m[name];
    (
        c["value"].as_f64().unwrap(),
        c["previous"].as_f64().unwrap(),
        c["trend_pct"].as_f64(),
    )
}

async fn an_empty_project_has_zero_cards_and_empty_days(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let m = app
        .get_json(&owner, &format!("/api/v1/projects/{}/metrics", p.id))
        .await;
    for name in ["total_users", "online_now", "new_this_week", "churn_rate"] {
        assert_eq!(card(&m, name), (0.0, 0.0, None), "{name}: {m}");
    }
    let daily = app
        .get_json(&owner, &format!("/api/v1/projects/{}/stats/daily", p.id))
        .await;
    let days = list(&daily, "days");
    assert_eq!(
        days.len(),
        30,
        "the last 30 days by default, missing days as zeros"
    );
    assert!(days
        .iter()
        .all(|d| d["active_users"] == 0 && d["sessions"] == 0 && d["bounce_rate"] == 0.0));
    assert!(days[0]["date"].as_str() < days[29]["date"].as_str());
}

async fn metric_cards_compare_this_week_with_last(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let secret = app.secret_key(&owner, &p.id, "k").await;
    let now = app.clock.now_ms();
    for u in ["u1", "u2", "u3", "u4"] {
        track_at(&app, &secret, u, now - 10 * DAY).await;
    }
    for u in ["u1", "u2"] {
        track_at(&app, &secret, u, now - 8 * DAY).await;
    }
    for u in ["u5", "u6", "u1"] {
        track_at(&app, &secret, u, now - 2 * DAY).await;
    }
    app.collect_ok(&p.write_key, vec![pageview("visitor", "s", "/")])
        .await;

    let m = app
        .get_json(&owner, &format!("/api/v1/projects/{}/metrics", p.id))
        .await;
    assert_eq!(card(&m, "total_users"), (7.0, 4.0, Some(75.0)), "{m}");
    assert_eq!(card(&m, "new_this_week"), (3.0, 4.0, Some(-25.0)));
    // u1..u4 were active last week; only u1 came back this week.
    assert_eq!(card(&m, "churn_rate"), (75.0, 0.0, None));
    assert_eq!(card(&m, "online_now"), (1.0, 0.0, None));

    let daily = format!("/api/v1/projects/{}/stats/daily?days=x", p.id);
    let daily = app.get_json(&owner, &daily).await;
    let days = list(&daily, "days");
    let active: Vec<i64> = days
        .iter()
        .map(|d| d["active_users"].as_i64().unwrap())
        .collect();
    assert_eq!(
        &active[active.len() - 11..],
        &[4, 0, 2, 0, 0, 0, 0, 0, 3, 0, 1]
    );
    let today = days.last().unwrap();
    assert_eq!(
        (
            today["sessions"].as_i64(),
            today["pageviews"].as_i64(),
            today["bounce_rate"].as_f64()
        ),
        (Some(1), Some(1), Some(100.0))
    );
}

async fn days_are_local_to_the_project_time_zone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let nz = json!({"name": "NZ", "timezone": "Pacific/Auckland"});
    let id = app.create_project_from(&owner, nz).await.id;
    let secret = app.secret_key(&owner, &id, "k").await;
    let tz = vibe_core::day::ProjectTz::or_utc("Pacific/Auckland");
    let yesterday = tz.date_of(app.clock.now_ms()).yesterday().unwrap();
    // 00:30 local time yesterday is still the day before in UTC.
    let ts = tz.start_of(yesterday) + 30 * 60_000;
    assert_ne!(
        vibe_core::day::ProjectTz::or_utc("UTC").day_of(ts),
        yesterday.to_string()
    );
    track_at(&app, &secret, "kiwi", ts).await;
    let q = format!("/api/v1/projects/{id}/stats/daily?from={yesterday}&to={yesterday}");
    let days = app.get_json(&owner, &q).await["days"].clone();
    assert_eq!(
        days,
        json!([{"date": yesterday.to_string(), "active_users": 1, "new_users": 1, "sessions": 0,
        "pageviews": 0, "events": 1, "avg_session_s": 0.0, "bounce_rate": 0.0}])
    );
}

async fn daily_stats_validate_the_range(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let get = |q: &str| {
        let path = format!("/api/v1/projects/{}/stats/daily?{q}", p.id);
        let (app, owner) = (&app, &owner);
        async move { app.get(owner, &path).await }
    };
    for q in ["from=yesterday", "from=2026-02-01&to=2026-01-01"] {
        assert_invalid(get(q).await, "from").await;
    }
    let (status, code) = (StatusCode::BAD_REQUEST, "invalid_field");
    assert_error(get("from=2020-01-01&to=2026-01-01").await, status, code).await;
    let ok = json_of(get("from=2026-01-01&to=2026-01-07").await).await;
    assert_eq!(list(&ok, "days").len(), 7);
}

crate::on_both_backends!(
    an_empty_project_has_zero_cards_and_empty_days,
    metric_cards_compare_this_week_with_last,
    days_are_local_to_the_project_time_zone,
    daily_stats_validate_the_range,
);
