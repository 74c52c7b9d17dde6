use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

async fn idempotent_retry_is_not_counted_twice(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let batch = vec![
        pageview("anon-1", "s-1", "https://shop.example/"),
        message(
            "event",
            "anon-1",
            "s-1",
            json!({"name": "signup_click", "props": {"plan": "pro"}}),
        ),
    ];
    assert_eq!(app.collect_ok(&p.write_key, batch.clone()).await, (2, 0));
    assert_eq!(app.collect_ok(&p.write_key, batch).await, (0, 2));
    assert_eq!(app.count_events(&p.id).await, 2);
    let visitors = app.online_visitors(&owner, &p.id).await;
    assert_eq!(visitors[0]["page_count"], 1);
}

/// Each invalid request gets the documented 4xx naming the field, and nothing of
/// it is stored — not even its valid messages.
async fn invalid_payloads_are_rejected_whole(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let key = p.write_key.as_str();
    let good = pageview("a", "s", "https://x.example/");
    let cases: Vec<(Value, StatusCode, &str, &str)> = vec![
        (
            json!({"batch": [good]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "key",
        ),
        (
            json!({"key": 42, "batch": [good]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "key",
        ),
        (
            json!({"key": key}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch",
        ),
        (
            json!({"key": key, "batch": {}}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch",
        ),
        (
            json!({"key": key, "batch": []}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch",
        ),
        (
            json!({"key": key, "batch": [good, 7]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1]",
        ),
        (
            json!({"key": key, "batch": [good, {"id": uuid(), "anonymous_id": "a"}]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].type",
        ),
        (
            json!({"key": key, "batch": [good, message("click", "a", "s", json!({}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1].type",
        ),
        (
            json!({"key": key, "batch": [good, {"type": "event", "anonymous_id": "a", "name": "x"}]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].id",
        ),
        (
            json!({"key": key, "batch": [good, {"type": "event", "id": "123", "anonymous_id": "a", "name": "x"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1].id",
        ),
        (
            json!({"key": key, "batch": [good, {"type": "event", "id": uuid(), "name": "x"}]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].anonymous_id",
        ),
        (
            json!({"key": key, "batch": [good, message("pageview", "a", "s", json!({}))]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].url",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({}))]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].name",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({"name": ["x"]}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1].name",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({"name": "x", "ts": "yesterday"}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1].ts",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({"name": "x", "props": "p"}))]}),
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "batch[1].props",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({"name": "n".repeat(201)}))]}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "batch[1].name",
        ),
        (
            json!({"key": key, "batch": [good, message("event", "a", "s", json!({"name": "x", "props": {"k": "v".repeat(9000)}}))]}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "batch[1].props",
        ),
        (
            json!({"key": key, "batch": [good, message("identify", "a", "s", json!({}))]}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "batch[1].user_id",
        ),
        (
            json!({"key": key, "batch": vec![good.clone(); 501]}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "batch",
        ),
    ];
    for (body, status, code, field) in cases {
        let err = assert_error(app.collect_raw(body.to_string()).await, status, code).await;
        assert_eq!(
            err["field"],
            field,
            "for body {}",
            &body.to_string()[..body.to_string().len().min(200)]
        );
    }
    assert_error(
        app.collect_raw("{\"key\": ").await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
    assert_error(
        app.collect_raw("[1,2]").await,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await;
    let huge = json!({"key": key, "batch": [good], "pad": "x".repeat(600 * 1024)}).to_string();
    assert_error(
        app.collect_raw(huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let res = app
        .client
        .post(app.url("/api/v1/collect"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(json!({"key": key, "batch": [good]}).to_string())
        .send()
        .await
        .unwrap();
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let err = assert_error(
        app.collect("wk_unknown", vec![good]).await,
        StatusCode::UNAUTHORIZED,
        "invalid_write_key",
    )
    .await;
    assert_eq!(err["field"], "key");

    assert_eq!(
        app.count_events(&p.id).await,
        0,
        "nothing of a rejected request is stored"
    );
    assert!(app.online_visitors(&owner, &p.id).await.is_empty());
}

async fn bots_are_ignored_and_counted(backend: Backend) {
    let Some((app, _, p)) = signed_in(backend).await else {
        return;
    };
    let res = app
        .client
        .post(app.url("/api/v1/collect"))
        .header(
            "user-agent",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )
        .body(json!({"key": p.write_key, "batch": [pageview("b", "b", "/")]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(json_of(res).await["ignored"], 1);
    assert_eq!(app.count_events(&p.id).await, 0);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vibe_ingest_bots_ignored_total 1"),
        "{metrics}"
    );
}

async fn cors_follows_allowed_origins(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let res = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"name": "Shop", "allowed_origins": ["https://shop.example"]}),
        )
        .await;
    let shop = json_of(res).await;
    let key = shop["write_key"].as_str().unwrap();
    let send = |origin: &'static str| {
        app.client
            .post(app.url("/api/v1/collect"))
            .header("origin", origin)
            .header("user-agent", BROWSER_UA)
            .body(
                json!({"key": key, "batch": [pageview("a", "s", "https://shop.example/")]})
                    .to_string(),
            )
            .send()
    };
    let ok = send("https://shop.example").await.unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_error(
        send("https://evil.example").await.unwrap(),
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    )
    .await;
    assert_eq!(app.count_events(shop["id"].as_str().unwrap()).await, 1);
    // Changing the list takes effect at once (the write-key cache is dropped).
    let res = app
        .client
        .patch(app.url(&format!(
            "/api/v1/projects/{}",
            shop["id"].as_str().unwrap()
        )))
        .header("cookie", &owner.0)
        .json(&json!({"allowed_origins": ["https://evil.example"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        send("https://evil.example").await.unwrap().status(),
        StatusCode::ACCEPTED
    );

    // An empty list allows any origin; the preflight always answers.
    let p = app.default_project(&owner).await;
    let res = app
        .client
        .post(app.url("/api/v1/collect"))
        .header("origin", "https://anywhere.example")
        .header("user-agent", BROWSER_UA)
        .body(json!({"key": p.write_key, "batch": [pageview("a", "s", "/")]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/collect"))
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://anywhere.example"
    );
}

async fn skewed_client_clocks_are_replaced(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let now = app.clock.now_ms();
    let far_future = message(
        "event",
        "a",
        "s",
        json!({"name": "x", "ts": now + 3_600_000}),
    );
    let slightly_off = message("event", "a", "s", json!({"name": "y", "ts": now - 60_000}));
    app.collect_ok(&p.write_key, vec![far_future, slightly_off])
        .await;
    let events = app.events(&owner, &p.id).await;
    let ts = |name: &str| {
        events.iter().find(|e| e["name"] == name).unwrap()["ts"]
            .as_i64()
            .unwrap()
    };
    assert!((ts("x") - now).abs() < 5_000, "replaced by server time");
    assert_eq!(ts("y"), now - 60_000, "kept within ±10 min");
}

async fn server_side_track_and_identify_use_secret_keys(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let res = app
        .post(
            &owner,
            &format!("/api/v1/projects/{}/keys", p.id),
            json!({"name": "backend"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = json_of(res).await["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk_"));
    let keys = json_of(
        app.get(&owner, &format!("/api/v1/projects/{}/keys", p.id))
            .await,
    )
    .await;
    assert!(
        !keys.to_string().contains(&secret),
        "only a prefix is listed"
    );

    let last_month = app.clock.now_ms() - 30 * 86_400_000;
    let track = |body: Value, key: &str| {
        app.client
            .post(app.url("/api/v1/track"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let res = track(json!({"id": uuid(), "user_id": "u-1", "name": "invoice_paid", "ts": last_month, "props": {"eur": 49}}), &secret)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{:?}", res.text().await);
    let res = app
        .client
        .post(app.url("/api/v1/identify"))
        .bearer_auth(&secret)
        .json(&json!({"id": uuid(), "user_id": "u-1", "traits": {"email": "u1@example.com", "plan": "premium"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let events = app.events(&owner, &p.id).await;
    let paid = events
        .iter()
        .find(|e| e["name"] == "invoice_paid")
        .expect("stored");
    assert_eq!(
        paid["ts"], last_month,
        "historical timestamps are kept for imports"
    );
    assert_eq!(paid["props"], json!({"eur": 49}));
    let user = app
        .state
        .store
        .site_user(&p.id, "uid:u-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (user.email.as_deref(), user.plan.as_deref()),
        (Some("u1@example.com"), Some("premium"))
    );

    assert_error(
        track(
            json!({"id": uuid(), "user_id": "u", "name": "x"}),
            "sk_wrong",
        )
        .await
        .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let no_key = app
        .client
        .post(app.url("/api/v1/track"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(no_key, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let err = assert_error(
        track(json!({"id": uuid(), "user_id": "u"}), &secret)
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "missing_field",
    )
    .await;
    assert_eq!(err["field"], "body.name");
}

crate::on_both_backends!(
    idempotent_retry_is_not_counted_twice,
    invalid_payloads_are_rejected_whole,
    bots_are_ignored_and_counted,
    cors_follows_allowed_origins,
    skewed_client_clocks_are_replaced,
    server_side_track_and_identify_use_secret_keys,
);
