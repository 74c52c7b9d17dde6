//! Flows over HTTP: create/read/update/delete, validation naming the field,
//! the 50-flow limit, stats over a history tracked through `/api/v1/track`,
//! roles (viewers read, only admins write) and other tenants.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

fn vision(name: &str) -> Value {
    json!({"name": name,
        "start": {"match": "event", "value": "vision_started"},
        "complete": {"match": "event", "value": "vision_generated", "name": "Generated"},
        "fail": {"match": "event", "value": "vision_failed"},
        "window_hours": 1})
}

fn tracked(user: &str, name: &str, ts: i64) -> Value {
    json!({"type": "event", "id": uuid(), "user_id": user, "name": name, "ts": ts})
}

async fn flows_crud_round_trip(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/flows", p.id);
    let first = created(app.post(&owner, &base, vision("Vision")).await).await;
    assert_eq!(first["name"], "Vision");
    assert_eq!(
        first["start"],
        json!({"match": "event", "value": "vision_started", "prefix": false})
    );
    assert_eq!(first["complete"]["name"], "Generated");
    assert_eq!(first["fail"]["value"], "vision_failed");
    assert_eq!(first["window_hours"], 1);
    assert!(first["created_at"].as_i64().unwrap() > 0);
    assert_eq!(first["created_at"], first["updated_at"]);
    app.clock.advance_ms(1_000);
    // Defaults: no fail step, a 24-hour window; page steps with a prefix.
    let second = created(
        app.post(
            &owner,
            &base,
            json!({"name": "  Onboarding  ",
                "start": {"match": "page", "value": "/welcome"},
                "complete": {"match": "page", "value": "/done/", "prefix": true}}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (&second["name"], &second["fail"], &second["window_hours"]),
        (&json!("Onboarding"), &Value::Null, &json!(24))
    );
    assert_eq!(second["complete"]["prefix"], true);

    let all = app.get_json(&owner, &base).await;
    let names: Vec<&str> = list(&all, "flows")
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Vision", "Onboarding"], "oldest first");
    let id = first["id"].as_str().unwrap();
    assert_eq!(app.get_json(&owner, &format!("{base}/{id}")).await, first);

    app.clock.advance_ms(1_000);
    let mut edit = vision("Vision v2");
    edit["fail"] = Value::Null;
    edit["window_hours"] = json!(48);
    let res = app.put(&owner, &format!("{base}/{id}"), edit).await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated = json_of(res).await;
    assert_eq!(
        (&updated["name"], &updated["fail"], &updated["window_hours"]),
        (&json!("Vision v2"), &Value::Null, &json!(48))
    );
    assert_eq!(updated["created_at"], first["created_at"]);
    assert!(updated["updated_at"].as_i64() > first["updated_at"].as_i64());
    assert_eq!(app.get_json(&owner, &format!("{base}/{id}")).await, updated);

    let res = app.delete(&owner, &format!("{base}/{id}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for path in [format!("{base}/{id}"), format!("{base}/{id}/stats")] {
        let res = app.get(&owner, &path).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let res = app.delete(&owner, &format!("{base}/{id}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .put(&owner, &format!("{base}/no-such-flow"), vision("X"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(list(&app.get_json(&owner, &base).await, "flows").len(), 1);
}

async fn flow_validation_names_the_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/flows", p.id);
    let with = |key: &str, v: Value| {
        let mut b = vision("Vision");
        b[key] = v;
        b
    };
    let mut without_name = vision("x");
    without_name.as_object_mut().unwrap().remove("name");
    let mut without_start = vision("x");
    without_start.as_object_mut().unwrap().remove("start");
    let cases = [
        (with("name", json!("   ")), "missing_field", "name"),
        (without_name, "missing_field", "name"),
        (
            with("name", json!("n".repeat(101))),
            "invalid_field",
            "name",
        ),
        (without_start, "missing_field", "start"),
        (
            with("start", json!({"match": "event", "value": " "})),
            "invalid_field",
            "start.value",
        ),
        (
            with("start", json!({"match": "event"})),
            "invalid_field",
            "start.value",
        ),
        (
            with("fail", json!({"match": "click", "value": "x"})),
            "invalid_field",
            "fail.match",
        ),
        (
            with("complete", json!({"match": "page", "value": "done"})),
            "invalid_field",
            "complete.value",
        ),
        (
            with(
                "complete",
                json!({"match": "page", "value": "/d", "prefix": "yes"}),
            ),
            "invalid_field",
            "complete.prefix",
        ),
        (
            with("start", json!("vision_started")),
            "invalid_field",
            "start",
        ),
        (
            with("window_hours", json!(0)),
            "invalid_field",
            "window_hours",
        ),
        (
            with("window_hours", json!(721)),
            "invalid_field",
            "window_hours",
        ),
        (
            with("window_hours", json!(1.5)),
            "invalid_field",
            "window_hours",
        ),
        (with("color", json!("red")), "invalid_field", "color"),
    ];
    for (body, code, field) in cases {
        let res = app.post(&owner, &base, body.clone()).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    // PUT validates the same way.
    let f = created(app.post(&owner, &base, vision("Vision")).await).await;
    let id = f["id"].as_str().unwrap();
    let res = app
        .put(
            &owner,
            &format!("{base}/{id}"),
            with("window_hours", json!(-1)),
        )
        .await;
    assert_invalid(res, "window_hours").await;

    // At most 50 flows per project.
    for i in 1..50 {
        let res = app.post(&owner, &base, vision(&format!("Flow {i}"))).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app.post(&owner, &base, vision("One too many")).await;
    let err = assert_error(res, StatusCode::CONFLICT, "too_many_flows").await;
    assert!(err["message"].as_str().unwrap().contains("50"));
    assert_eq!(list(&app.get_json(&owner, &base).await, "flows").len(), 50);
}

async fn flow_stats_over_a_tracked_history(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/flows", p.id);
    let flow = created(app.post(&owner, &base, vision("Vision")).await).await;
    let empty = app
        .get_json(
            &owner,
            &format!("{base}/{}/stats", flow["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        (
            &empty["started"],
            &empty["completion_rate"],
            &empty["success_rate"],
            &empty["avg_completion_s"],
            &empty["median_completion_s"]
        ),
        (
            &json!(0),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::Null
        )
    );

    let secret = app.secret_key(&owner, &p.id, "backend").await;
    let t = app.clock.now_ms() - 3_600_000;
    let batch = vec![
        tracked("u1", "vision_started", t),
        tracked("u1", "vision_generated", t + 10_000),
        tracked("u2", "vision_started", t),
        tracked("u2", "vision_failed", t + 20_000),
        // A repeated start while open is the same attempt.
        tracked("u3", "vision_started", t),
        tracked("u3", "vision_started", t + 5_000),
        tracked("u4", "vision_started", t + 1_000),
        tracked("u4", "vision_generated", t + 31_000),
        tracked("u5", "something_else", t),
    ];
    let res = app
        .post_bearer(&secret, "/api/v1/track", json!({ "batch": batch }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // A flow created after the events is built from them.
    let later = created(app.post(&owner, &base, vision("Vision again")).await).await;

    let viewer = app.as_role(Role::Viewer).await;
    for f in [&flow, &later] {
        let id = f["id"].as_str().unwrap();
        let s = app.get_json(&viewer, &format!("{base}/{id}/stats")).await;
        assert_eq!(s["flow"]["id"], f["id"]);
        assert_eq!(s["days"], 30);
        assert_eq!(
            (
                &s["started"],
                &s["completed"],
                &s["failed"],
                &s["abandoned"]
            ),
            (&json!(4), &json!(2), &json!(1), &json!(1)),
            "{s}"
        );
        assert_eq!(s["completion_rate"], 50.0);
        assert_eq!(s["success_rate"], 66.7);
        assert_eq!(s["avg_completion_s"], 20.0);
        // The lower middle of 10 s and 30 s, from a bucket ~10 % wide.
        let median = s["median_completion_s"].as_f64().unwrap();
        assert!((median - 10.0).abs() <= 0.5, "{median}");
        let daily = list(&s, "daily");
        assert_eq!(daily.len(), 30, "every day of the window, zeros included");
        assert_eq!(daily.last().unwrap()["day"], s["to"]);
        let sum = |k: &str| daily.iter().map(|d| d[k].as_i64().unwrap()).sum::<i64>();
        assert_eq!((sum("started"), sum("completed"), sum("failed")), (4, 2, 1));
        let week = app
            .get_json(&viewer, &format!("{base}/{id}/stats?days=7"))
            .await;
        assert_eq!(list(&week, "daily").len(), 7);
    }
    let id = flow["id"].as_str().unwrap();
    for days in ["0", "366", "x", "-3"] {
        let res = app
            .get(&owner, &format!("{base}/{id}/stats?days={days}"))
            .await;
        assert_invalid(res, "days").await;
    }
}

async fn viewers_read_admins_write_tenants_are_apart(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/flows", p.id);
    let flow = created(app.post(&owner, &base, vision("Vision")).await).await;
    let id = flow["id"].as_str().unwrap().to_owned();
    let viewer = app.as_role(Role::Viewer).await;
    let agent = app.as_role(Role::Agent).await;
    for who in [&viewer, &agent] {
        for path in [
            base.clone(),
            format!("{base}/{id}"),
            format!("{base}/{id}/stats"),
        ] {
            let res = app.get(who, &path).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
        }
        assert_refused(
            &app,
            who,
            (StatusCode::FORBIDDEN, "forbidden"),
            vec![
                (Method::POST, base.clone(), Some(vision("Mine"))),
                (Method::PUT, format!("{base}/{id}"), Some(vision("Mine"))),
                (Method::DELETE, format!("{base}/{id}"), None),
            ],
        )
        .await;
    }
    let admin = app.as_role(Role::Admin).await;
    let res = app.post(&admin, &base, vision("By admin")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.get_json(&owner, &format!("{base}/{id}")).await, flow);

    // Project B: its flow is not reachable through A, nor by non-members.
    let b = app.create_project(&owner, "Bravo").await;
    let bravo = format!("/api/v1/projects/{}/flows", b.id);
    let theirs = created(app.post(&owner, &bravo, vision("Bravo flow")).await).await;
    let tid = theirs["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, format!("{base}/{tid}")),
        (Method::GET, format!("{base}/{tid}/stats")),
        (Method::DELETE, format!("{base}/{tid}")),
    ] {
        let res = app.call(&owner, method, &path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = app
        .put(&owner, &format!("{base}/{tid}"), vision("Hijack"))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_json(&owner, &format!("{bravo}/{tid}")).await["name"],
        "Bravo flow"
    );
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    for path in [
        bravo.clone(),
        format!("{bravo}/{tid}"),
        format!("{bravo}/{tid}/stats"),
    ] {
        let res = app.get(&outsider, &path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!res.text().await.unwrap().contains("Bravo"));
    }
    let res = app.post(&outsider, &bravo, vision("Intruder")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

crate::on_both_backends!(
    flows_crud_round_trip,
    flow_validation_names_the_field,
    flow_stats_over_a_tracked_history,
    viewers_read_admins_write_tenants_are_apart,
);
