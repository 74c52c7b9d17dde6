use reqwest::{Method, StatusCode};
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
    let huge = json!({"key": key, "batch": [good], "pad": "x".repeat(600 * 1024)}).to_string();
    for (body, status, code) in [
        (
            "{\"key\": ".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        ("[1,2]".to_owned(), StatusCode::BAD_REQUEST, "invalid_json"),
        (huge, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
    ] {
        assert_error(app.collect_raw(body).await, status, code).await;
    }
    let form = app
        .request(Method::POST, "/api/v1/collect")
        .header("content-type", "application/x-www-form-urlencoded");
    let res = form
        .body(json!({"key": key, "batch": [good]}).to_string())
        .send()
        .await
        .unwrap();
    let (status, code) = (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_error(res, status, code).await;
    let res = app.collect("wk_unknown", vec![good]).await;
    assert_field_error(res, StatusCode::UNAUTHORIZED, "invalid_write_key", "key").await;

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
    let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let bot = app
        .request(Method::POST, "/api/v1/collect")
        .header("user-agent", googlebot);
    let batch = json!({"key": p.write_key, "batch": [pageview("b", "b", "/")]});
    let res = bot.body(batch.to_string()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(json_of(res).await["ignored"], 1);
    assert_eq!(app.count_events(&p.id).await, 0);
    let metrics = app.request(Method::GET, "/metrics").send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
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
    let shop = app
        .create_project_from(
            &owner,
            json!({"name": "Shop", "allowed_origins": ["https://shop.example"]}),
        )
        .await;
    // A page on `origin` sends one page view of `url` to the project of `key`.
    let from = |origin: &'static str, key: &str, url: &str| {
        let batch = json!({"key": key, "batch": [pageview("a", "s", url)]});
        app.request(Method::POST, "/api/v1/collect")
            .header("origin", origin)
            .header("user-agent", BROWSER_UA)
            .body(batch.to_string())
            .send()
    };
    let send = |origin: &'static str| from(origin, &shop.write_key, "https://shop.example/");
    let ok = send("https://shop.example").await.unwrap();
    assert_eq!(ok.status(), StatusCode::ACCEPTED);
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let refused = send("https://evil.example").await.unwrap();
    assert_error(refused, StatusCode::FORBIDDEN, "origin_not_allowed").await;
    assert_eq!(app.count_events(&shop.id).await, 1);
    // Changing the list takes effect at once (the write-key cache is dropped).
    let evil_only = json!({"allowed_origins": ["https://evil.example"]});
    let res = app
        .patch(&owner, &format!("/api/v1/projects/{}", shop.id), evil_only)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        send("https://evil.example").await.unwrap().status(),
        StatusCode::ACCEPTED
    );

    // An empty list allows any origin; the preflight always answers.
    let p = app.default_project(&owner).await;
    let res = from("https://anywhere.example", &p.write_key, "/")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let pre = app
        .request(Method::OPTIONS, "/api/v1/collect")
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
    let secret = string_at(&app.mint_key(&owner, &p.id, "backend").await, "secret");
    assert!(secret.starts_with("sk_"));
    let keys = app
        .get_json(&owner, &format!("/api/v1/projects/{}/keys", p.id))
        .await;
    assert!(
        !keys.to_string().contains(&secret),
        "only a prefix is listed"
    );

    let last_month = app.clock.now_ms() - 30 * 86_400_000;
    let track = "/api/v1/track";
    let paid = json!({"id": uuid(), "user_id": "u-1", "name": "invoice_paid", "ts": last_month, "props": {"eur": 49}});
    let res = app.post_bearer(&secret, track, paid).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{:?}", res.text().await);
    let traits = json!({"email": "u1@example.com", "plan": "premium"});
    let identify = json!({"id": uuid(), "user_id": "u-1", "traits": traits});
    let res = app.post_bearer(&secret, "/api/v1/identify", identify).await;
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
    let user = app.stored_user(&p.id, "uid:u-1").await;
    assert_eq!(
        (user.identity.email.as_deref(), user.plan.as_deref()),
        (Some("u1@example.com"), Some("premium"))
    );

    let event = json!({"id": uuid(), "user_id": "u", "name": "x"});
    let wrong_key = app.post_bearer("sk_wrong", track, event).await;
    assert_error(wrong_key, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let no_key = app.request(Method::POST, track).json(&json!({}));
    let res = no_key.send().await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let nameless = json!({"id": uuid(), "user_id": "u"});
    let res = app.post_bearer(&secret, track, nameless).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "body.name").await;
}

crate::on_both_backends!(
    idempotent_retry_is_not_counted_twice,
    invalid_payloads_are_rejected_whole,
    bots_are_ignored_and_counted,
    cors_follows_allowed_origins,
    skewed_client_clocks_are_replaced,
    server_side_track_and_identify_use_secret_keys,
);
