//! Web push: the tracked site's endpoints (`/api/v1/push/key`, `subscribe`,
//! `unsubscribe`: write key, origin, body checks naming the field, the
//! visitor's person, idempotent re-subscribes, other projects), the service
//! worker asset, and the sender (`outbound::push::send`) against a real push
//! service process (`python/push_service.py`, from the `.venv` that
//! `scripts/ensure-python-venv.sh` makes; skipped loudly without it, failed
//! under `CI`) that verifies the VAPID JWT with `cryptography` and decrypts
//! the payload with `http_ece`, as a browser would: it must receive exactly
//! the notification sent; 404/410 remove the subscription; 429/5xx retry.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_server::outbound::push::{send, Notification, PushMessage, Urgency};
use vibe_server::outbound::SendError;

use crate::helpers::*;
use crate::on_both_backends;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A subscription as a browser's `PushSubscription.toJSON()` gives it, with
/// keys made here (for the API tests, which never push to it).
fn browser_subscription(endpoint: &str) -> Value {
    let key = p256::SecretKey::random(&mut rand::thread_rng());
    let point = key.public_key().to_encoded_point(false);
    json!({"endpoint": endpoint, "expirationTime": null,
        "keys": {"p256dh": b64(point.as_bytes()), "auth": b64(&rand::random::<[u8; 16]>())}})
}

pub(crate) async fn push_call(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/push/{path}"))
        .header("user-agent", BROWSER_UA)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

pub(crate) async fn public_key(app: &TestApp, write_key: &str) -> String {
    let res = app
        .request(Method::GET, &format!("/api/v1/push/key?key={write_key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    string_at(&json_of(res).await, "public_key")
}

async fn push_key_subscribe_and_unsubscribe(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    // The key: the same on every call, an uncompressed P-256 point.
    let key = public_key(&app, &p.write_key).await;
    assert_eq!(public_key(&app, &p.write_key).await, key);
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&key)
        .unwrap();
    assert_eq!((raw.len(), raw[0]), (65, 4));
    // Kept sealed: the stored row does not hold the private key in the clear.
    let stored = app.state.store.vapid_keys(&p.id).await.unwrap().unwrap();
    assert_eq!(stored.public_key, key);
    let private = vibe_server::push::keys::project_key(&app.state, &p.id)
        .await
        .unwrap()
        .private_bytes();
    for text in [b64(&private), vibe_server::secrets::hex(&private)] {
        assert!(!stored.private_key_sealed.contains(&text));
    }
    let res = app
        .request(Method::GET, "/api/v1/push/key?key=wk_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        app.base.as_str(),
        "errors are readable by the page"
    );
    assert_field_error(res, StatusCode::UNAUTHORIZED, "invalid_write_key", "key").await;
    let res = app
        .request(Method::GET, "/api/v1/push/key")
        .send()
        .await
        .unwrap();
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "key").await;

    // Subscribing: on the visitor's person; again with the same endpoint is
    // the same row (200), with the new keys.
    app.collect_ok(
        &p.write_key,
        vec![pageview("anon-a", "s-a", "https://shop.example/")],
    )
    .await;
    let endpoint = "https://push.example/send/abc";
    let body =
        |sub: Value| json!({"key": p.write_key, "anonymous_id": "anon-a", "subscription": sub});
    let res = push_call(&app, "subscribe", body(browser_subscription(endpoint))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(json_of(res).await, json!({"subscribed": true}));
    let renewed = browser_subscription(endpoint);
    let res = push_call(&app, "subscribe", body(renewed.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let subs = app
        .state
        .store
        .push_subscriptions_of(&p.id, "anon-a")
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].endpoint, endpoint);
    assert_eq!(subs[0].p256dh, renewed["keys"]["p256dh"].as_str().unwrap());
    assert_eq!(subs[0].user_agent.as_deref(), Some(BROWSER_UA));
    // A claimed user id without its signature counts for nothing.
    app.collect_ok(
        &p.write_key,
        vec![identify("anon-u", "s-u", "u-1", json!({}))],
    )
    .await;
    let victim = app
        .state
        .store
        .find_user(&p.id, "u-1")
        .await
        .unwrap()
        .unwrap();
    let mut claim = body(browser_subscription("https://push.example/send/claim"));
    claim["user_id"] = json!("u-1");
    assert_eq!(
        push_call(&app, "subscribe", claim).await.status(),
        StatusCode::CREATED
    );
    assert!(app
        .state
        .store
        .push_subscriptions_of(&p.id, &victim.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        app.state
            .store
            .push_subscriptions_of(&p.id, "anon-a")
            .await
            .unwrap()
            .len(),
        2
    );

    // Refusals, each naming the field.
    let good = body(browser_subscription(endpoint));
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let res = push_call(&app, "subscribe", with("key", json!("wk_nope"))).await;
    assert_field_error(res, StatusCode::UNAUTHORIZED, "invalid_write_key", "key").await;
    let mut no_key = good.clone();
    no_key.as_object_mut().unwrap().remove("key");
    let res = push_call(&app, "subscribe", no_key).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "key").await;
    let mut no_anon = good.clone();
    no_anon.as_object_mut().unwrap().remove("anonymous_id");
    let res = push_call(&app, "subscribe", no_anon).await;
    assert_field_error(
        res,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "anonymous_id",
    )
    .await;
    let res = push_call(&app, "subscribe", with("subscription", Value::Null)).await;
    assert_field_error(
        res,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "subscription",
    )
    .await;
    let mut bad = good.clone();
    bad["subscription"]["keys"]["p256dh"] = json!("AAAA");
    assert_invalid(
        push_call(&app, "subscribe", bad).await,
        "subscription.keys.p256dh",
    )
    .await;
    let mut bad = good.clone();
    bad["subscription"]["keys"]["auth"] = json!(b64(&[1; 8]));
    assert_invalid(
        push_call(&app, "subscribe", bad).await,
        "subscription.keys.auth",
    )
    .await;
    let res = push_call(
        &app,
        "subscribe",
        with("subscription", browser_subscription("http://127.0.0.1:9/x")),
    )
    .await;
    assert_invalid(res, "subscription.endpoint").await;
    assert_invalid(
        push_call(&app, "subscribe", with("extra", json!(1))).await,
        "extra",
    )
    .await;
    let res = app
        .request(Method::POST, "/api/v1/push/subscribe")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Another project: its own rows; it cannot remove this project's.
    let other = app.create_project(&owner, "Other").await;
    let res = push_call(
        &app,
        "unsubscribe",
        json!({"key": other.write_key, "endpoint": endpoint}),
    )
    .await;
    assert_eq!(json_of(res).await, json!({"removed": false}));
    assert_eq!(
        app.state
            .store
            .push_subscriptions_of(&p.id, "anon-a")
            .await
            .unwrap()
            .len(),
        2
    );
    let res = push_call(
        &app,
        "subscribe",
        json!({"key": other.write_key, "anonymous_id": "anon-a", "subscription": browser_subscription(endpoint)}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_ne!(public_key(&app, &other.write_key).await, key);
    // Two first uses at once (two nodes, two pages) end with one key pair.
    let third = app.create_project(&owner, "Third").await;
    let (k1, k2) = tokio::join!(
        vibe_server::push::keys::project_key(&app.state, &third.id),
        vibe_server::push::keys::project_key(&app.state, &third.id)
    );
    assert_eq!(k1.unwrap().public_key(), k2.unwrap().public_key());
    assert_eq!(
        public_key(&app, &third.write_key).await,
        app.state
            .store
            .vapid_keys(&third.id)
            .await
            .unwrap()
            .unwrap()
            .public_key
    );

    // Unsubscribing: once.
    let unsub = json!({"key": p.write_key, "endpoint": endpoint});
    let res = push_call(&app, "unsubscribe", unsub.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await, json!({"removed": true}));
    let res = push_call(&app, "unsubscribe", unsub).await;
    assert_eq!(json_of(res).await, json!({"removed": false}));
    let res = push_call(&app, "unsubscribe", json!({"key": p.write_key})).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "endpoint").await;
    assert_eq!(
        app.state
            .store
            .push_subscriptions_of(&other.id, "anon-a")
            .await
            .unwrap()
            .len(),
        1
    );
}

/// With identity verification, a signed user id puts the browser on that
/// user's person (a new device too); a wrong hash is 401 naming `user_hash`.
async fn signed_user_ids_choose_the_contact(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}", p.id),
            json!({"identity_verification": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let secret = string_at(
        &app.get_json(
            &owner,
            &format!("/api/v1/projects/{}/identity-secret", p.id),
        )
        .await,
        "secret",
    );
    let hash = vibe_server::identity::user_hash(&secret, "dana");
    let mut ident = identify("d-1", "s-d1", "dana", json!({"name": "Dana"}));
    ident["user_hash"] = json!(hash);
    app.collect_ok(&p.write_key, vec![ident]).await;
    let dana = app
        .state
        .store
        .find_user(&p.id, "dana")
        .await
        .unwrap()
        .unwrap();

    let body = json!({"key": p.write_key, "anonymous_id": "d-2", "user_id": "dana", "user_hash": hash,
        "subscription": browser_subscription("https://push.example/dana")});
    assert_eq!(
        push_call(&app, "subscribe", body).await.status(),
        StatusCode::CREATED
    );
    let subs = app
        .state
        .store
        .push_subscriptions_of(&p.id, &dana.id)
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);
    let wrong = json!({"key": p.write_key, "anonymous_id": "x-2", "user_id": "dana", "user_hash": "00".repeat(32),
        "subscription": browser_subscription("https://push.example/x")});
    let res = push_call(&app, "subscribe", wrong).await;
    assert_field_error(
        res,
        StatusCode::UNAUTHORIZED,
        "invalid_user_hash",
        "user_hash",
    )
    .await;
    assert_eq!(
        app.state
            .store
            .push_subscriptions_of(&p.id, &dana.id)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A project that lists its origins refuses pages elsewhere.
async fn push_endpoints_check_the_origin(backend: Backend) {
    let Some((app, owner, _)) = signed_in(backend).await else {
        return;
    };
    let shop = app
        .create_project_from(
            &owner,
            json!({"name": "Shop", "allowed_origins": ["https://shop.example"]}),
        )
        .await;
    let body = json!({"key": shop.write_key, "anonymous_id": "anon-o",
        "subscription": browser_subscription("https://push.example/o")});
    // The test client's Origin is the dashboard's, not the shop's.
    let res = push_call(&app, "subscribe", body.clone()).await;
    assert_error(res, StatusCode::FORBIDDEN, "origin_not_allowed").await;
    let res = app
        .request(Method::POST, "/api/v1/push/subscribe")
        .header("origin", "https://shop.example")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let res = app
        .request(Method::OPTIONS, "/api/v1/push/subscribe")
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// The dashboard's view of a contact's browsers: no keys, no endpoint (only
/// its push service); agents remove one; other projects' ids are 404.
async fn contact_push_subscriptions(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    app.collect_ok(
        &p.write_key,
        vec![pageview("anon-c", "s-c", "https://shop.example/")],
    )
    .await;
    for e in ["https://push.example/c1", "https://other-push.example/c2"] {
        let body = json!({"key": p.write_key, "anonymous_id": "anon-c", "subscription": browser_subscription(e)});
        assert_eq!(
            push_call(&app, "subscribe", body).await.status(),
            StatusCode::CREATED
        );
    }
    let base = format!("/api/v1/projects/{}/users/anon-c/push-subscriptions", p.id);
    let list = app.get_json(&owner, &base).await;
    let subs = list["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0]["push_service"], "https://push.example");
    assert_eq!(subs[1]["push_service"], "https://other-push.example");
    assert_eq!(subs[0]["user_agent"], BROWSER_UA);
    let text = list.to_string();
    assert!(
        !text.contains("/c1") && !text.contains("p256dh") && !text.contains("auth\""),
        "{text}"
    );
    let first = string_at(&subs[0], "id");

    // A viewer reads but may not remove.
    let viewer = app.as_role(vibe_store::Role::Viewer).await;
    assert_eq!(app.get(&viewer, &base).await.status(), StatusCode::OK);
    let res = app.delete(&viewer, &format!("{base}/{first}")).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Another project: its contact's path does not reach this one's rows.
    let other = app.create_project(&owner, "Other").await;
    app.collect_ok(
        &other.write_key,
        vec![pageview("anon-c", "s-c2", "https://other.example/")],
    )
    .await;
    let other_base = format!(
        "/api/v1/projects/{}/users/anon-c/push-subscriptions",
        other.id
    );
    let list = app.get_json(&owner, &other_base).await;
    assert_eq!(list["subscriptions"], json!([]));
    let res = app.delete(&owner, &format!("{other_base}/{first}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .get(
            &owner,
            &format!("/api/v1/projects/{}/users/nobody/push-subscriptions", p.id),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    let res = app.delete(&owner, &format!("{base}/{first}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.delete(&owner, &format!("{base}/{first}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.get_json(&owner, &base).await["subscriptions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn service_worker_is_served(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app
        .request(Method::GET, "/vibe-sw.js")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let text = res.text().await.unwrap();
    assert!(text.contains("showNotification") && text.contains("notificationclick"));
}

// ---- the push service --------------------------------------------------------

/// The venv's Python when it has http_ece and cryptography; `None` (a loud
/// skip) without them, a failure under CI.
fn push_python() -> Option<PathBuf> {
    venv_python_with(
        "http_ece, cryptography",
        "http_ece and cryptography",
        "the push round trip",
    )
}

/// A running `push_service.py`; killed on drop.
pub(crate) struct PushService {
    child: Child,
    base: String,
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PushService {
    pub(crate) fn start() -> Option<PushService> {
        let python = push_python()?;
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/api/python/push_service.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("push_service.py did not print its port: {line:?}")
        });
        Some(PushService {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// A browser subscribing with `server_key`; pushes to it are answered `status`.
    pub(crate) async fn subscribe(&self, server_key: &str, status: u16) -> Value {
        let res = reqwest::Client::new()
            .post(format!("{}/subscriptions", self.base))
            .json(&json!({"application_server_key": server_key, "status": status}))
            .send()
            .await
            .unwrap();
        json_of(res).await
    }

    pub(crate) async fn received(&self, subscription: &Value) -> Vec<Value> {
        let endpoint = subscription["endpoint"].as_str().unwrap();
        let id = endpoint.rsplit('/').next().unwrap();
        let res = reqwest::get(format!("{}/received/{id}", self.base))
            .await
            .unwrap();
        json_of(res).await.as_array().unwrap().clone()
    }
}

/// A browser subscribed at `service` (answering `status`) and registered on
/// the project through the public endpoint: the stored row.
async fn subscribed(
    app: &TestApp,
    p: &vibe_store::Project,
    service: &PushService,
    status: u16,
) -> (Value, vibe_store::push::PushSubscription) {
    let key = public_key(app, &p.write_key).await;
    let sub = service.subscribe(&key, status).await;
    let anon = format!("anon-{}", uuid());
    let res = push_call(
        app,
        "subscribe",
        json!({"key": p.write_key, "anonymous_id": anon, "subscription": sub}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored = app
        .state
        .store
        .push_subscriptions_of(&p.id, &anon)
        .await
        .unwrap()
        .pop()
        .expect("stored");
    (sub, stored)
}

async fn push_round_trip_through_a_real_push_service(backend: Backend) {
    let Some(service) = PushService::start() else {
        return;
    };
    let Some((app, _owner, p)) = signed_in_with(backend, |c| c.push_allow_http = true).await else {
        return;
    };
    let (sub, stored) = subscribed(&app, &p, &service, 201).await;
    let notification = Notification {
        title: "Autumn sale — 20 % off".into(),
        body: Some("Hi Ada, the sale starts now ✨".into()),
        url: Some("https://shop.example/sale?utm=push".into()),
        icon: Some("https://shop.example/icon.png".into()),
        click_url: Some("https://vibe.example/r/tok123".into()),
    };
    let message = PushMessage {
        ttl: Duration::from_secs(3600),
        urgency: Urgency::High,
        ..PushMessage::new(notification.clone())
    };
    let sent = send(&app.state, &p.id, &stored, &message)
        .await
        .expect("sent");
    assert!(
        sent.channel_message_id.starts_with(&service.base),
        "{sent:?}"
    );

    let got = service.received(&sub).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["ok"], true, "{}", got[0]);
    let plaintext: Value = serde_json::from_str(got[0]["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(
        plaintext,
        json!({"title": "Autumn sale — 20 % off", "body": "Hi Ada, the sale starts now ✨",
            "url": "https://shop.example/sale?utm=push", "icon": "https://shop.example/icon.png",
            "click_url": "https://vibe.example/r/tok123"})
    );
    assert_eq!(
        got[0]["plaintext"].as_str().unwrap(),
        serde_json::to_string(&notification).unwrap(),
        "exactly the bytes sent"
    );
    assert_eq!(got[0]["claims"]["aud"], service.base.as_str());
    assert_eq!(got[0]["claims"]["sub"], "mailto:owner@example.com");
    assert_eq!(
        (got[0]["ttl"].as_str(), got[0]["urgency"].as_str()),
        (Some("3600"), Some("high"))
    );
    let after = app
        .state
        .store
        .push_subscription(&p.id, &stored.id)
        .await
        .unwrap()
        .unwrap();
    assert!(after.last_success_at.is_some());

    // 410 Gone and 404: the browser unsubscribed; the subscription is removed.
    for status in [410, 404] {
        let (sub, stored) = subscribed(&app, &p, &service, status).await;
        let res = send(&app.state, &p.id, &stored, &message).await;
        assert!(
            matches!(&res, Err(SendError::Fail(r)) if r.contains(&status.to_string()) && r.contains("removed")),
            "{res:?}"
        );
        assert_eq!(
            service.received(&sub).await.len(),
            1,
            "it was pushed (and decrypted)"
        );
        assert_eq!(
            app.state
                .store
                .push_subscription(&p.id, &stored.id)
                .await
                .unwrap(),
            None
        );
    }
    // 429 and 5xx: retried later, the subscription kept; other 4xx fail.
    for (status, retry) in [
        (429, true),
        (500, true),
        (503, true),
        (400, false),
        (413, false),
    ] {
        let (_, stored) = subscribed(&app, &p, &service, status).await;
        let res = send(&app.state, &p.id, &stored, &message).await;
        match res {
            Err(SendError::Retry(r)) if retry => assert!(r.contains(&status.to_string()), "{r}"),
            Err(SendError::Fail(r)) if !retry => assert!(r.contains(&status.to_string()), "{r}"),
            other => panic!("{status}: {other:?}"),
        }
        assert!(app
            .state
            .store
            .push_subscription(&p.id, &stored.id)
            .await
            .unwrap()
            .is_some());
    }
    // A redirect is not followed (the endpoint came from a web page).
    let (sub, stored) = subscribed(&app, &p, &service, 307).await;
    let res = send(&app.state, &p.id, &stored, &message).await;
    assert!(
        matches!(&res, Err(SendError::Fail(r)) if r.contains("307") && r.contains("not followed")),
        "{res:?}"
    );
    assert_eq!(
        service.received(&sub).await.len(),
        1,
        "pushed once, not again at the Location"
    );
    // A push service that is not there: retried.
    let (_, mut stored) = subscribed(&app, &p, &service, 201).await;
    stored.endpoint = "http://127.0.0.1:9/push/none".into();
    let res = send(&app.state, &p.id, &stored, &message).await;
    assert!(matches!(res, Err(SendError::Retry(_))), "{res:?}");
    // A payload too big for one push message fails before any request.
    let huge = PushMessage::new(Notification {
        title: "x".repeat(5000),
        ..Notification::default()
    });
    let (sub, stored) = subscribed(&app, &p, &service, 201).await;
    let res = send(&app.state, &p.id, &stored, &huge).await;
    assert!(
        matches!(&res, Err(SendError::Fail(r)) if r.contains("payload")),
        "{res:?}"
    );
    assert!(service.received(&sub).await.is_empty());

    // Without `push_allow_http`, an http:// endpoint is never contacted.
    let app = app.restart(|c| c.push_allow_http = false).await;
    let (sub2, stored2) = (sub, stored);
    let res = send(&app.state, &p.id, &stored2, &message).await;
    assert!(
        matches!(&res, Err(SendError::Fail(r)) if r.contains("https")),
        "{res:?}"
    );
    assert!(service.received(&sub2).await.is_empty());
    // The key survived the restart (sealed in the store, not in memory).
    let key = public_key(&app, &p.write_key).await;
    assert_eq!(
        key,
        app.state
            .store
            .vapid_keys(&p.id)
            .await
            .unwrap()
            .unwrap()
            .public_key
    );
}

on_both_backends!(
    push_key_subscribe_and_unsubscribe,
    push_endpoints_check_the_origin,
    signed_user_ids_choose_the_contact,
    contact_push_subscriptions,
    service_worker_is_served,
    push_round_trip_through_a_real_push_service,
);
