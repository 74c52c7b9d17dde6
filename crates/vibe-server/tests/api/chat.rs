//! The chat widget's endpoints (`/api/v1/chat/…`) and the live Inbox events:
//! visitor isolation, forged and other-project tokens, the disabled channel,
//! private notes hidden from the visitor, read receipts both ways, and
//! `inbox.*` events reaching an owner's socket but not an agent of another
//! team.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;
use crate::live::{next_json, watch};

pub async fn enable_chat(app: &TestApp, owner: &Session, pid: &str, on: bool) {
    let res = app
        .put(
            owner,
            &format!("/api/v1/projects/{pid}/channels/in_app"),
            json!({"enabled": on}),
        )
        .await;
    assert!(res.status().is_success(), "in_app: {}", res.status());
}

async fn chat(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.request(method, &format!("/api/v1/chat/{path}"));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub async fn token(app: &TestApp, key: &str, anon: &str) -> String {
    let res = chat(
        app,
        Method::POST,
        "session",
        None,
        Some(json!({"key": key, "anonymous_id": anon})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    string_at(&json_of(res).await, "token")
}

pub async fn say(app: &TestApp, token: &str, body: &str) -> Value {
    let res = chat(
        app,
        Method::POST,
        "messages",
        Some(token),
        Some(json!({ "body": body })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    json_of(res).await
}

pub(crate) async fn thread(app: &TestApp, token: &str) -> Value {
    let res = chat(app, Method::GET, "messages", Some(token), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await
}

pub(crate) fn bodies(t: &Value) -> Vec<String> {
    t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect()
}

async fn visitors_are_isolated(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    app.collect_ok(
        &p.write_key,
        vec![pageview("anon-a", "s-a", "https://shop.example/")],
    )
    .await;
    let a = token(&app, &p.write_key, "anon-a").await;
    let b = token(&app, &p.write_key, "anon-b").await;
    let sent = say(&app, &a, "hello from A").await;
    assert_eq!(sent["message"]["direction"], "in");
    say(&app, &b, "hello from B").await;
    assert_eq!(bodies(&thread(&app, &a).await), ["hello from A"]);
    assert_eq!(bodies(&thread(&app, &b).await), ["hello from B"]);
    // B cannot mark A's messages or name them.
    let res = chat(
        &app,
        Method::POST,
        "read",
        Some(&b),
        Some(json!({"message_id": string_at(&sent["message"], "id")})),
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // The agents see two in-app conversations, A's on A's person.
    let list = app
        .get_json(&owner, &format!("/api/v1/projects/{}/conversations", p.id))
        .await;
    let convs = list["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 2);
    assert!(convs
        .iter()
        .all(|c| c["channel"] == "in_app" && c["unread_count"] == 1));
    assert!(convs.iter().any(|c| c["site_user_id"] == "anon-a"));

    // Forged, altered and missing tokens.
    for bad in ["vct_nope", "vct_e30.AAAA", "", "Bearer"] {
        let res = chat(&app, Method::GET, "messages", Some(bad), None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "token {bad:?}");
    }
    // B's payload under A's signature.
    let (_, sig_a) = a.strip_prefix("vct_").unwrap().split_once('.').unwrap();
    let (payload_b, _) = b.strip_prefix("vct_").unwrap().split_once('.').unwrap();
    let forged = format!("vct_{payload_b}.{sig_a}");
    let res = chat(&app, Method::GET, "messages", Some(&forged), None).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = chat(&app, Method::GET, "messages", None, None).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;

    // Another project's write key: a token for that project, which sees
    // nothing of this one's (and its chat is off: 404).
    let other = app.create_project(&owner, "Bravo").await;
    let res = chat(
        &app,
        Method::POST,
        "session",
        None,
        Some(json!({"key": other.write_key, "anonymous_id": "anon-a"})),
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    enable_chat(&app, &owner, &other.id, true).await;
    let a_other = token(&app, &other.write_key, "anon-a").await;
    let t = thread(&app, &a_other).await;
    assert!(t["messages"].as_array().unwrap().is_empty());
    assert!(t["conversation_id"].is_null());
    // Unknown write key, field errors.
    let res = chat(
        &app,
        Method::POST,
        "session",
        None,
        Some(json!({"key": "wk_nope", "anonymous_id": "x"})),
    )
    .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "invalid_write_key").await;
    let res = chat(
        &app,
        Method::POST,
        "session",
        None,
        Some(json!({"key": p.write_key})),
    )
    .await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "missing_field").await;
    assert_eq!(e["field"], "anonymous_id");
    let res = chat(
        &app,
        Method::POST,
        "messages",
        Some(&a),
        Some(json!({"body": "x".repeat(2001)})),
    )
    .await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(e["field"], "body");
    let res = chat(
        &app,
        Method::POST,
        "messages",
        Some(&a),
        Some(json!({"text": "hi"})),
    )
    .await;
    let e = assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(e["field"], "text");

    // Disabled: config says so and everything else is 404.
    enable_chat(&app, &owner, &p.id, false).await;
    let res = chat(
        &app,
        Method::GET,
        &format!("config?key={}", p.write_key),
        None,
        None,
    )
    .await;
    assert_eq!(json_of(res).await["enabled"], false);
    let snip = app
        .get_json(&owner, &format!("/api/v1/projects/{}/snippet", p.id))
        .await;
    assert!(!string_at(&snip, "snippet").contains("vibe-chat.js"));
    let res = chat(&app, Method::GET, "messages", Some(&a), None).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = chat(
        &app,
        Method::POST,
        "session",
        None,
        Some(json!({"key": p.write_key, "anonymous_id": "anon-a"})),
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn notes_hidden_and_read_receipts(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let res = chat(
        &app,
        Method::GET,
        &format!("config?key={}", p.write_key),
        None,
        None,
    )
    .await;
    assert!(!res.headers()["access-control-allow-origin"]
        .to_str()
        .unwrap()
        .is_empty());
    assert_eq!(json_of(res).await["enabled"], true);
    let snip = app
        .get_json(&owner, &format!("/api/v1/projects/{}/snippet", p.id))
        .await;
    assert!(string_at(&snip, "snippet").contains("/vibe-chat.js\" data-key="));
    assert_eq!(snip["chat"], true);
    // The widget's script, served like vibe.js.
    let res = app
        .request(Method::GET, "/vibe-chat.js")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let etag = res.headers()["etag"].clone();
    assert!(res.text().await.unwrap().contains("/api/v1/chat/"));
    let res = app
        .request(Method::GET, "/vibe-chat.js")
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let v = token(&app, &p.write_key, "anon-r").await;
    let sent = say(&app, &v, "where is my order?").await;
    let cid = string_at(&sent, "conversation_id");
    let mid = string_at(&sent["message"], "id");
    let base = format!("/api/v1/projects/{}/conversations/{cid}", p.id);
    // The agent replies and writes a note.
    let reply = created(
        app.post(
            &owner,
            &format!("{base}/messages"),
            json!({"body": "On its way!"}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &owner,
            &format!("{base}/messages"),
            json!({"body": "internal: VIP", "private": true}),
        )
        .await,
    )
    .await;
    let t = thread(&app, &v).await;
    assert_eq!(bodies(&t), ["where is my order?", "On its way!"]);
    assert_eq!(t["messages"][0]["delivery_status"], "delivered");
    // The agent reads: the visitor sees their message read.
    let res = app
        .post(&owner, &format!("{base}/messages/{mid}/read"), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let t = thread(&app, &v).await;
    assert_eq!(t["messages"][0]["delivery_status"], "read");
    // The visitor reads: the agent sees "read" on the reply.
    let rid = string_at(&reply, "id");
    let res = chat(
        &app,
        Method::POST,
        "read",
        Some(&v),
        Some(json!({"message_id": rid})),
    )
    .await;
    assert_eq!(json_of(res).await["read"], 1);
    let msgs = app.get_json(&owner, &format!("{base}/messages")).await;
    let r = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == rid.as_str())
        .unwrap()
        .clone();
    assert_eq!(r["delivery_status"], "read");
    // A private note cannot be read through the widget.
    let res = chat(
        &app,
        Method::POST,
        "read",
        Some(&v),
        Some(json!({"message_id": "nope"})),
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// Reads until an `inbox.*` message of `kind` (skipping visitor-feed ones).
pub async fn until_inbox(ws: &mut crate::live::Socket, kind: &str) -> Value {
    loop {
        let m = next_json(ws).await;
        if m["type"] == kind {
            return m;
        }
    }
}

async fn live_events_follow_the_scope(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    let pid = &p.id;
    // An in-app inbox of team Alpha; an agent of team Beta.
    let alpha = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{pid}/teams"),
            json!({"name": "Alpha"}),
        )
        .await,
    )
    .await;
    let beta = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{pid}/teams"),
            json!({"name": "Beta"}),
        )
        .await,
    )
    .await;
    created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{pid}/inboxes"),
            json!({"name": "Site chat", "channel": "in_app", "team_id": alpha["id"]}),
        )
        .await,
    )
    .await;
    let agent = app.as_role(Role::Agent).await;
    let agent_id = app.account_id(&agent).await;
    let res = app
        .put(
            &owner,
            &format!(
                "/api/v1/projects/{pid}/teams/{}/members/{agent_id}",
                string_at(&beta, "id")
            ),
            json!({}),
        )
        .await;
    assert!(res.status().is_success());
    let viewer = app.as_role(Role::Viewer).await;

    let (mut owner_ws, _) = watch(&app, pid, &owner).await;
    let (mut agent_ws, _) = watch(&app, pid, &agent).await;
    let (mut viewer_ws, _) = watch(&app, pid, &viewer).await;

    let v = token(&app, &p.write_key, "anon-live").await;
    let sent = say(&app, &v, "anyone there?").await;
    let cid = string_at(&sent, "conversation_id");
    let m = until_inbox(&mut owner_ws, "inbox.message").await;
    assert_eq!(m["conversation"]["id"], cid.as_str());
    assert_eq!(m["conversation"]["team_id"], alpha["id"]);
    assert_eq!(m["message"]["body"], "anyone there?");
    assert!(m.get("seq").is_none(), "inbox events carry no seq: {m}");

    // The owner replies; the visitor reads it: delivery event to the owner.
    let reply = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
            json!({"body": "Yes!"}),
        )
        .await,
    )
    .await;
    let m = until_inbox(&mut owner_ws, "inbox.message").await;
    assert_eq!(m["message"]["body"], "Yes!");
    let res = chat(
        &app,
        Method::POST,
        "read",
        Some(&v),
        Some(json!({"message_id": reply["id"]})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let d = until_inbox(&mut owner_ws, "inbox.delivery").await;
    assert_eq!(d["message_id"], reply["id"]);
    assert_eq!(d["status"], "read");
    // A PATCH: conversation event.
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}"),
            json!({"status": "pending"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = until_inbox(&mut owner_ws, "inbox.conversation").await;
    assert_eq!(c["conversation"]["status"], "pending");

    // Neither the Beta agent nor the viewer got any of it: the next message
    // they see is a visitor-feed one sent after everything above.
    app.collect_ok(
        &p.write_key,
        vec![pageview(
            "anon-marker",
            "s-marker",
            "https://shop.example/x",
        )],
    )
    .await;
    for ws in [&mut agent_ws, &mut viewer_ws] {
        loop {
            let m = next_json(ws).await;
            let kind = m["type"].as_str().unwrap_or_default().to_owned();
            assert!(!kind.starts_with("inbox."), "out of scope: {m}");
            if kind == "visitor_joined" {
                break;
            }
        }
    }
}

async fn session_body(app: &TestApp, body: Value) -> reqwest::Response {
    chat(app, Method::POST, "session", None, Some(body)).await
}

async fn signed_users_and_send_limits(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
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

    // Dana on a second device, signed: her person's conversation.
    let res = session_body(
        &app,
        json!({"key": p.write_key, "anonymous_id": "d-2", "user_id": "dana", "user_hash": hash}),
    )
    .await;
    let body = json_of(res).await;
    assert_eq!(body["identified"], true);
    let dana = string_at(&body, "token");
    say(&app, &dana, "hi, Dana here").await;
    // Her first device (the alias) sees the same thread.
    let first = token(&app, &p.write_key, "d-1").await;
    assert_eq!(bodies(&thread(&app, &first).await), ["hi, Dana here"]);
    // Claiming her user id without the hash opens nothing; a wrong hash is 401.
    let res = session_body(
        &app,
        json!({"key": p.write_key, "anonymous_id": "x-1", "user_id": "dana"}),
    )
    .await;
    let body = json_of(res).await;
    assert_eq!(body["identified"], false);
    let claim = string_at(&body, "token");
    assert!(bodies(&thread(&app, &claim).await).is_empty());
    let res = session_body(
        &app,
        json!({"key": p.write_key, "anonymous_id": "x-2", "user_id": "dana", "user_hash": "00".repeat(32)}),
    )
    .await;
    let e = assert_error(res, StatusCode::UNAUTHORIZED, "invalid_user_hash").await;
    assert_eq!(e["field"], "user_hash");

    // Ten messages a minute, then 429 with Retry-After.
    for i in 1..10 {
        say(&app, &dana, &format!("message {i}")).await;
    }
    let res = chat(
        &app,
        Method::POST,
        "messages",
        Some(&dana),
        Some(json!({"body": "one too many"})),
    )
    .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    app.clock.advance_ms(61_000);
    say(&app, &dana, "later").await;
}

crate::on_both_backends!(
    visitors_are_isolated,
    notes_hidden_and_read_receipts,
    live_events_follow_the_scope,
    signed_users_and_send_limits,
);

/// Two nodes on one PostgreSQL schema: a visitor's message sent to node B
/// reaches an owner's Inbox socket on node A (and B), once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_events_cross_nodes() {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let b = spawn_second_node(&a, |_| {}).await;
    let owner = a.login_owner().await;
    let p = a.default_project(&owner).await;
    enable_chat(&a, &owner, &p.id, true).await;
    let (mut on_a, _) = watch(&a, &p.id, &owner).await;
    let (mut on_b, _) = watch(&b, &p.id, &owner).await;
    let v = token(&b, &p.write_key, "anon-n").await;
    say(&b, &v, "via node B").await;
    for ws in [&mut on_a, &mut on_b] {
        let m = until_inbox(ws, "inbox.message").await;
        assert_eq!(m["message"]["body"], "via node B");
    }
}
