//! Feature usage and AI token usage: the response shapes, `ai_usage`
//! validation naming the field, the browser collector refusing reserved
//! events, bad query parameters, viewers and other tenants.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

fn ai(user: &str, model: &str, prompt: i64, completion: i64, cost: f64) -> Value {
    json!({"type": "event", "id": uuid(), "user_id": user, "name": "ai_usage",
        "props": {"model": model, "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}})
}

async fn track(app: &TestApp, secret: &str, batch: Vec<Value>) -> reqwest::Response {
    app.post_bearer(secret, "/api/v1/track", json!({ "batch": batch }))
        .await
}

async fn features_count_custom_events_per_day(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    app.collect_ok(
        &p.write_key,
        vec![
            pageview("a", "sa", "https://x.io/"),
            event("a", "sa", "export"),
            event("a", "sa", "export"),
            event("b", "sb", "export"),
            event("b", "sb", "share"),
            pageview("c", "sc", "https://x.io/"),
        ],
    )
    .await;
    let base = format!("/api/v1/projects/{}", p.id);
    let viewer = app.as_role(Role::Viewer).await;
    let body = app.get_json(&viewer, &format!("{base}/features")).await;
    assert_eq!(body["active_people"], 3, "{body}");
    let features = list(&body, "features");
    let names: Vec<&str> = features
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["export", "share"]);
    let export = &features[0];
    assert_eq!(
        (&export["total"], &export["unique_people"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(export["share_of_active_pct"], 66.7);
    let daily = list(export, "daily");
    assert_eq!(
        daily.len(),
        30,
        "the last 30 days by default, zeros included"
    );
    let today = daily.last().unwrap();
    assert_eq!((&today["day"], &today["count"]), (&body["to"], &json!(3)));
    assert_eq!(
        daily
            .iter()
            .map(|d| d["count"].as_i64().unwrap())
            .sum::<i64>(),
        3
    );

    // An explicit range; days are YYYY-MM-DD.
    let to = body["to"].as_str().unwrap();
    let one = app
        .get_json(&owner, &format!("{base}/features?from={to}&to={to}"))
        .await;
    assert_eq!(list(&list(&one, "features")[0], "daily").len(), 1);
    let old = app
        .get_json(
            &owner,
            &format!("{base}/features?from=2001-01-01&to=2001-01-31"),
        )
        .await;
    assert_eq!(
        (list(&old, "features").len(), &old["active_people"]),
        (0, &json!(0))
    );

    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("from=2027-02-01&to=2027-01-01", "from"),
        ("from=2020-01-01&to=2027-01-01", "from"),
    ] {
        let res = app.get(&owner, &format!("{base}/features?{query}")).await;
        assert_invalid(res, field).await;
    }
}

async fn ai_usage_totals_models_users_and_days(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let secret = app.secret_key(&owner, &p.id, "backend").await;
    let traits = json!({"email": "ana@x.io", "name": "Ana"});
    let ident = json!({"id": uuid(), "user_id": "ana", "traits": traits});
    let res = app.post_bearer(&secret, "/api/v1/identify", ident).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mut batch = vec![
        ai("ana", "gpt-4o", 1000, 500, 0.02),
        ai("ana", "claude", 10, 0, 0.0),
        ai("bob", "gpt-4o", 100, 100, 0.002),
    ];
    // Optional props; a retried id counts once.
    let mut with_feature = ai("bob", "gpt-4o", 1, 1, 0.0);
    with_feature["props"]["feature"] = json!("vision");
    with_feature["props"]
        .as_object_mut()
        .unwrap()
        .remove("cost_usd");
    batch.push(with_feature.clone());
    let res = track(&app, &secret, batch).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let out = json_of(track(&app, &secret, vec![with_feature]).await).await;
    assert_eq!(out["duplicates"], 1);

    let base = format!("/api/v1/projects/{}", p.id);
    let viewer = app.as_role(Role::Viewer).await;
    let body = app.get_json(&viewer, &format!("{base}/ai-usage")).await;
    assert_eq!(
        body["totals"],
        json!({"calls": 4, "prompt_tokens": 1111, "completion_tokens": 601, "total_tokens": 1712, "cost_usd": 0.022}),
        "{body}"
    );
    let models: Vec<(&str, i64)> = list(&body, "by_model")
        .iter()
        .map(|m| {
            (
                m["model"].as_str().unwrap(),
                m["total_tokens"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(models, [("gpt-4o", 1702), ("claude", 10)]);
    let users = list(&body, "by_user");
    assert_eq!(users.len(), 2);
    assert_eq!(
        users[0]["user"],
        json!({"id": "uid:ana", "user_id": "ana", "email": "ana@x.io", "name": "Ana"})
    );
    assert_eq!(
        (&users[0]["total_tokens"], &users[0]["calls"]),
        (&json!(1510), &json!(2))
    );
    assert_eq!(users[1]["user"]["user_id"], "bob");
    assert_eq!(body["users_total"], 2);
    let daily = list(&body, "daily");
    assert_eq!(daily.len(), 30);
    let today = daily.last().unwrap();
    assert_eq!(
        (
            &today["day"],
            &today["prompt_tokens"],
            &today["completion_tokens"],
            &today["cost_usd"]
        ),
        (&body["to"], &json!(1111), &json!(601), &json!(0.022))
    );
    // Paging people.
    let page = app
        .get_json(&owner, &format!("{base}/ai-usage?limit=1&offset=1"))
        .await;
    let users = list(&page, "by_user");
    assert_eq!(
        (users.len(), &users[0]["user"]["user_id"]),
        (1, &json!("bob"))
    );
    assert_eq!(
        (&page["limit"], &page["offset"], &page["users_total"]),
        (&json!(1), &json!(1), &json!(2))
    );
    // ai_usage is not a feature.
    let features = app.get_json(&owner, &format!("{base}/features")).await;
    assert!(list(&features, "features").is_empty());

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=51", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("from=2027-1-1", "from"),
    ] {
        let res = app.get(&owner, &format!("{base}/ai-usage?{query}")).await;
        assert_invalid(res, field).await;
    }
}

/// Configured to treat every range as large, the people page is the
/// snapshot of its first read (with its time) until it is older than the
/// configured age; the totals stay live.
async fn ai_people_page_is_a_snapshot_over_large_ranges(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        c.ai_people_live_limit = 0;
        c.ai_people_max_age_s = 3_600;
    })
    .await
    else {
        return;
    };
    let secret = app.secret_key(&owner, &p.id, "backend").await;
    let res = track(&app, &secret, vec![ai("ana", "gpt-4o", 10, 0, 0.0)]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let url = format!("/api/v1/projects/{}/ai-usage", p.id);
    let first = app.get_json(&owner, &url).await;
    assert!(first["by_user_as_of"].as_i64().is_some(), "{first}");
    let res = track(&app, &secret, vec![ai("bob", "gpt-4o", 500, 0, 0.0)]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let second = app.get_json(&owner, &url).await;
    assert_eq!(second["by_user"], first["by_user"]);
    assert_eq!(second["by_user_as_of"], first["by_user_as_of"]);
    assert_eq!(second["totals"]["prompt_tokens"], 510);
    assert_eq!(second["users_total"], 2);
}

async fn ai_usage_is_validated_and_server_side_only(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let secret = app.secret_key(&owner, &p.id, "backend").await;
    let bad = |props: Value| json!({"type": "event", "id": uuid(), "user_id": "u", "name": "ai_usage", "props": props});
    let ok = ai("u", "m", 1, 1, 0.0);
    for (props, code, field) in [
        (
            json!({"model": "m", "prompt_tokens": -1, "completion_tokens": 1}),
            "invalid_field",
            "prompt_tokens",
        ),
        (
            json!({"model": "m", "prompt_tokens": 1.5, "completion_tokens": 1}),
            "invalid_field",
            "prompt_tokens",
        ),
        (
            json!({"model": "m", "prompt_tokens": "1", "completion_tokens": 1}),
            "invalid_field",
            "prompt_tokens",
        ),
        (
            json!({"model": "m", "prompt_tokens": 1}),
            "missing_field",
            "completion_tokens",
        ),
        (
            json!({"prompt_tokens": 1, "completion_tokens": 1}),
            "missing_field",
            "model",
        ),
        (
            json!({"model": "", "prompt_tokens": 1, "completion_tokens": 1}),
            "invalid_field",
            "model",
        ),
        (
            json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": -1}),
            "invalid_field",
            "cost_usd",
        ),
        (
            json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1, "feature": 7}),
            "invalid_field",
            "feature",
        ),
    ] {
        let batch = vec![ok.clone(), ok.clone(), bad(props)];
        let res = track(&app, &secret, batch).await;
        let field = format!("batch[2].props.{field}");
        assert_field_error(res, StatusCode::BAD_REQUEST, code, &field).await;
    }
    // A single message on /track is named `body`.
    let res = track(&app, &secret, vec![bad(json!(null))]).await;
    assert_field_error(
        res,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "body.props.model",
    )
    .await;
    // Nothing of a refused request is stored.
    assert_eq!(app.count_events(&p.id).await, 0);

    // The browser collector (public write key) may not send reserved events.
    for name in ["ai_usage", "payment", "subscription"] {
        let mut m = event("a", "sa", name);
        m["props"] = json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1});
        let res = app
            .collect(&p.write_key, vec![pageview("a", "sa", "https://x.io/"), m])
            .await;
        assert_invalid(res, "batch[1].name").await;
    }
    assert_eq!(app.count_events(&p.id).await, 0);
    // The same event from the server, with a secret key, is stored.
    let res = track(&app, &secret, vec![ok]).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(app.count_events(&p.id).await, 1);
}

async fn other_tenants_see_nothing(backend: Backend) {
    let Some((app, owner, _p)) = signed_in(backend).await else {
        return;
    };
    let b = app.create_project(&owner, "Bravo").await;
    let secret = app.secret_key(&owner, &b.id, "backend").await;
    let res = track(
        &app,
        &secret,
        vec![ai("secret-user", "secret-model", 5, 5, 1.0)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    app.collect_ok(&b.write_key, vec![event("a", "sa", "secret-feature")])
        .await;
    let bravo = format!("/api/v1/projects/{}", b.id);
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    for path in [format!("{bravo}/features"), format!("{bravo}/ai-usage")] {
        let res = app.call(&outsider, Method::GET, &path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let text = res.text().await.unwrap();
        for leak in ["secret-user", "secret-model", "secret-feature", "Bravo"] {
            assert!(!text.contains(leak), "{path} leaked {leak}");
        }
    }
    // The owner's own project shows none of B's data.
    let mine = app.default_project(&outsider).await;
    let base = format!("/api/v1/projects/{}", mine.id);
    let ai = app.get_json(&outsider, &format!("{base}/ai-usage")).await;
    assert_eq!(ai["totals"]["calls"], 0);
    let f = app.get_json(&outsider, &format!("{base}/features")).await;
    assert!(list(&f, "features").is_empty());
}

crate::on_both_backends!(
    features_count_custom_events_per_day,
    ai_usage_totals_models_users_and_days,
    ai_usage_is_validated_and_server_side_only,
    ai_people_page_is_a_snapshot_over_large_ranges,
    other_tenants_see_nothing,
);
