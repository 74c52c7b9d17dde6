use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

async fn funnels_crud_and_conversion(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/funnels", p.id);
    let body = json!({"name": "Signup", "window_days": 7, "steps": [
        {"match": "page", "value": "/"},
        {"match": "page", "value": "/pricing"},
        {"match": "event", "value": "signup_click", "name": "Clicked sign up"}]});
    let res = app.post(&owner, &base, body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let f = json_of(res).await;
    let fid = f["id"].as_str().unwrap().to_owned();
    assert_eq!(
        f["steps"][1],
        json!({"match": "page", "value": "/pricing", "prefix": false})
    );
    assert_eq!(
        json_of(app.get(&owner, &base).await).await["funnels"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Four visitors: two reach pricing, one of them signs up; one clicks sign up without pricing.
    let now = app.clock.now_ms();
    let step = |anon: &str, kind: &str, what: &str, ts: i64| {
        let extra = if kind == "pageview" {
            json!({"url": format!("https://x.io{what}"), "ts": ts})
        } else {
            json!({"name": what, "ts": ts})
        };
        message(kind, anon, &format!("s-{anon}"), extra)
    };
    app.collect_ok(
        &p.write_key,
        vec![
            step("a", "pageview", "/", now - 9000),
            step("a", "pageview", "/pricing", now - 8000),
            step("a", "event", "signup_click", now - 7000),
            step("b", "pageview", "/", now - 9000),
            step("b", "pageview", "/pricing", now - 8000),
            step("c", "pageview", "/", now - 9000),
            step("c", "event", "signup_click", now - 7000),
            step("d", "pageview", "/", now - 9000),
        ],
    )
    .await;
    app.wait_funnel_ready(&owner, &p.id, &fid).await;
    let conv = app
        .get_json(&owner, &format!("{base}/{fid}/conversion?days=30"))
        .await;
    assert_eq!(
        conv["steps"],
        json!([
        {"name": "/", "users": 4, "conversion_pct": 100.0, "drop_off_pct": 0.0, "high_drop_off": false},
        {"name": "/pricing", "users": 2, "conversion_pct": 50.0, "drop_off_pct": 50.0, "high_drop_off": false},
        {"name": "Clicked sign up", "users": 1, "conversion_pct": 25.0, "drop_off_pct": 50.0, "high_drop_off": false}])
    );

    // Edit: prefix match and a shorter funnel; then delete.
    let res = app
        .put(
            &owner,
            &format!("{base}/{fid}"),
            json!({"name": "Docs", "steps": [{"match": "page", "value": "/pri", "prefix": true}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.wait_funnel_ready(&owner, &p.id, &fid).await;
    let conv = app
        .get_json(&owner, &format!("{base}/{fid}/conversion"))
        .await;
    assert_eq!(conv["steps"][0]["users"], 2);
    assert_eq!(
        app.delete(&owner, &format!("{base}/{fid}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get(&owner, &format!("{base}/{fid}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn funnel_definitions_are_validated_and_guarded(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/funnels", p.id);
    let cases = [
        (json!({"name": "x", "steps": []}), "steps"),
        (
            json!({"name": "x", "steps": [{"match": "page", "value": "pricing"}]}),
            "steps[0].value",
        ),
        (
            json!({"name": "x", "steps": [{"match": "event", "value": " "}]}),
            "steps[0].value",
        ),
        (
            json!({"name": "x", "steps": [{"match": "event", "value": "a"}], "window_days": 0}),
            "window_days",
        ),
        (
            json!({"name": "", "steps": [{"match": "event", "value": "a"}]}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let res = app.post(&owner, &base, body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json_of(res).await["error"]["field"], field);
    }
    let res = app
        .post(
            &owner,
            &base,
            json!({"name": "x", "steps": [{"match": "click", "value": "a"}]}),
        )
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    let one_step = json!({"name": "x", "steps": [{"match": "event", "value": "a"}]});
    let fid = string_at(&app.post_json(&owner, &base, one_step.clone()).await, "id");
    let res = app
        .get(&owner, &format!("{base}/{fid}/conversion?days=0"))
        .await;
    assert_invalid(res, "days").await;

    // Viewers read but do not edit; other projects' members see nothing.
    let viewer = app.as_role(Role::Viewer).await;
    assert_eq!(
        app.get(&viewer, &format!("{base}/{fid}/conversion"))
            .await
            .status(),
        StatusCode::OK
    );
    let calls = vec![
        (Method::POST, base.clone(), Some(one_step)),
        (Method::DELETE, format!("{base}/{fid}"), None),
    ];
    let forbidden = (StatusCode::FORBIDDEN, "forbidden");
    assert_refused(&app, &viewer, forbidden, calls).await;
    let other = app.create_project(&owner, "Other").await;
    let elsewhere = format!("/api/v1/projects/{}/funnels/{fid}", other.id);
    let res = app.get(&owner, &elsewhere).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// Two page views per visitor: "/" then "/pricing".
fn visit(anon: &str, ts: i64) -> Vec<Value> {
    let at = |path: &str, ts: i64| {
        let page = json!({"url": format!("https://x.io{path}"), "ts": ts});
        message("pageview", anon, &format!("s-{anon}"), page)
    };
    vec![at("/", ts), at("/pricing", ts + 1000)]
}

/// An app whose funnel builder reads `chunk` events at a time, `pause_ms`
/// apart, so a build can be watched while it runs.
async fn slow_builds(backend: Backend, chunk: usize, pause_ms: u64) -> Option<SignedIn> {
    signed_in_with(backend, |c| {
        c.funnel_build_chunk = chunk;
        c.funnel_build_pause = std::time::Duration::from_millis(pause_ms);
    })
    .await
}

/// Creates the two-step pricing funnel; returns its body.
async fn create_two_steps(app: &TestApp, owner: &Session, base: &str) -> Value {
    let res = app
        .post(owner, base, serde_json::from_str(TWO_STEPS).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json_of(res).await
}

const TWO_STEPS: &str = r#"{"name": "Pricing", "steps": [
    {"match": "page", "value": "/"}, {"match": "page", "value": "/pricing"}]}"#;

async fn a_funnel_on_existing_events_builds_in_the_background(backend: Backend) {
    let Some((app, owner, p)) = slow_builds(backend, 2, 20).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/funnels", p.id);
    let now = app.clock.now_ms();
    let mut batch = Vec::new();
    for i in 0..20 {
        batch.extend(visit(&format!("v{i}"), now - 60_000 + i * 10));
    }
    app.collect_ok(&p.write_key, batch).await;

    let f = create_two_steps(&app, &owner, &base).await;
    assert_eq!(f["status"], "building");
    let fid = f["id"].as_str().unwrap().to_owned();
    // 40 events, 2 per chunk, 20 ms apart: still building when read.
    let conv = app
        .get_json(&owner, &format!("{base}/{fid}/conversion"))
        .await;
    assert_eq!(conv["status"], "building");
    assert_eq!(conv["steps"], Value::Null);
    assert!(conv["progress_pct"].as_i64().unwrap() < 100);
    let listed = json_of(app.get(&owner, &base).await).await;
    assert_eq!(listed["funnels"][0]["status"], "building");

    let ready = app.wait_funnel_ready(&owner, &p.id, &fid).await;
    assert_eq!(ready["progress_pct"], 100);
    let conv = app
        .get_json(&owner, &format!("{base}/{fid}/conversion"))
        .await;
    assert_eq!(conv["status"], "ready");
    let users = step_users(&conv);
    assert_eq!(users, vec![20, 20]);
}

async fn the_collector_keeps_accepting_while_a_funnel_builds(backend: Backend) {
    let Some((app, owner, p)) = slow_builds(backend, 5, 2).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/funnels", p.id);
    let now = app.clock.now_ms();
    for b in 0..5 {
        let mut batch = Vec::new();
        for i in 0..40 {
            batch.extend(visit(
                &format!("old{b}-{i}"),
                now - 3_600_000 + b * 1000 + i,
            ));
        }
        app.collect_ok(&p.write_key, batch).await;
    }
    let f = create_two_steps(&app, &owner, &base).await;
    let fid = f["id"].as_str().unwrap().to_owned();
    // Visitors keep arriving while the 400 stored events are scanned five at a
    // time; every request is accepted (no 503) and counted once.
    let (mut during, mut sent) = (0, 0);
    loop {
        let building =
            json_of(app.get(&owner, &format!("{base}/{fid}")).await).await["status"] == "building";
        let res = app
            .collect(
                &p.write_key,
                visit(&format!("new{sent}"), now - 1000 + sent),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        sent += 1;
        if !building {
            break;
        }
        during += 1;
        assert!(sent < 10_000, "the build never finished");
    }
    assert!(during >= 3, "only {during} requests while building");
    app.wait_funnel_ready(&owner, &p.id, &fid).await;
    let conv = app
        .get_json(&owner, &format!("{base}/{fid}/conversion"))
        .await;
    let users = step_users(&conv);
    // Exactly the query-time conversion over the stored events (the reference).
    let steps: Vec<vibe_store::funnel::FunnelStep> =
        serde_json::from_value(f["steps"].clone()).unwrap();
    let events = app
        .state
        .store
        .funnel_events(&p.id, &steps, i64::MIN, i64::MAX)
        .await
        .unwrap();
    let reference: Vec<i64> =
        vibe_store::funnel::conversion(&steps, 7, &events, now - 30 * 86_400_000, i64::MAX)
            .iter()
            .map(|s| s.users)
            .collect();
    assert_eq!(users, reference);
    assert_eq!(users[0], 200 + sent, "every visitor once");
}

crate::on_both_backends!(
    funnels_crud_and_conversion,
    funnel_definitions_are_validated_and_guarded,
    a_funnel_on_existing_events_builds_in_the_background,
    the_collector_keeps_accepting_while_a_funnel_builds
);
