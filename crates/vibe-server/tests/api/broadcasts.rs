//! Template broadcasts against the fake Graph server: a segment's people
//! with a phone each get one WhatsApp template request (the exact JSON), the
//! others are counted as skipped; each message's outcome is its own (a
//! refused one fails, the rest go out); status webhooks move `by_status`;
//! validation, roles and tenants.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_server::config::Config;
use vibe_store::inbox::Channel;
use vibe_store::Role;

use crate::channels::*;
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::{configure, wa_sign};

fn fast(c: &mut Config) {
    c.outbound_poll_every = Duration::from_millis(30);
}

/// Three people of the promo group with a phone (two spellings), one
/// without, one outside the group.
async fn people(app: &TestApp, key: &str) {
    let batch = vec![
        identify(
            "a1",
            "s-a1",
            "ana",
            json!({"group": "promo", "phone": "+1 650 555 0001"}),
        ),
        identify(
            "b1",
            "s-b1",
            "bo",
            json!({"group": "promo", "phone": "+16505550002"}),
        ),
        identify(
            "c1",
            "s-c1",
            "cy",
            json!({"group": "promo", "phone": "+1 (650) 555-0003"}),
        ),
        identify("d1", "s-d1", "di", json!({"group": "promo"})),
        identify(
            "e1",
            "s-e1",
            "ed",
            json!({"group": "other", "phone": "+16505550005"}),
        ),
    ];
    app.collect_ok(key, batch).await;
}

async fn setup(app: &TestApp, owner: &Session, pid: &str, fake: &FakeProvider) -> String {
    let mut body = whatsapp_body();
    body["api_base_url"] = json!(format!("{}/v21.0", fake.url));
    configure(app, owner, pid, "whatsapp", body).await;
    let seg = json!({"name": "Promo", "criteria": {"field": "trait", "key": "group", "op": "eq", "value": "promo"}});
    let seg = created(
        app.post(owner, &format!("/api/v1/projects/{pid}/segments"), seg)
            .await,
    )
    .await;
    seg["id"].as_str().unwrap().to_owned()
}

fn broadcast(segment_id: &str) -> Value {
    json!({"segment_id": segment_id, "template": {"name": "spring_sale", "language": "en_US"},
        "body": "Spring sale: 20% off this week."})
}

async fn create(app: &TestApp, who: &Session, pid: &str, body: Value) -> Value {
    let res = app
        .post(who, &format!("/api/v1/projects/{pid}/broadcasts"), body)
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    res.json().await.unwrap()
}

/// Waits (real time) until none of the broadcast's messages is queued.
async fn settled(app: &TestApp, who: &Session, pid: &str, bid: &str) -> Value {
    let path = format!("/api/v1/projects/{pid}/broadcasts/{bid}");
    for _ in 0..500 {
        let b = app.get_json(who, &path).await;
        if b["by_status"]["queued"] == 0 {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("broadcast {bid} stayed queued");
}

async fn wa_status(app: &TestApp, pid: &str, wamid: &str, status: &str) {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": wamid, "status": status, "timestamp": "1749416400",
                "recipient_id": "16505550001"}]}}]}]})
    .to_string();
    let res = app
        .bare(Method::POST, &format!("/api/v1/webhooks/whatsapp/{pid}"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            wa_sign(WA_APP_SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn broadcast_sends_one_template_per_phone(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let sid = setup(&app, &owner, &p.id, &fake).await;
    people(&app, &p.write_key).await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let b = create(&app, &supervisor, &p.id, broadcast(&sid)).await;
    assert_eq!(
        (b["recipients"].as_i64(), b["skipped"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(b["status"], "queued");
    let bid = b["id"].as_str().unwrap();

    let shown = settled(&app, &owner, &p.id, bid).await;
    assert_eq!(
        shown["by_status"],
        json!({"queued": 0, "sent": 3, "delivered": 0, "read": 0, "failed": 0})
    );
    assert_eq!(
        shown["template"],
        json!({"name": "spring_sale", "language": "en_US"})
    );
    assert_eq!(shown["segment_id"], sid);
    assert_eq!(shown["body"], "Spring sale: 20% off this week.");
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    let mut to: Vec<String> = Vec::new();
    for r in &reqs {
        assert_eq!(r.path, "/v21.0/106540352242922/messages");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        let digits = body["to"].as_str().unwrap().to_owned();
        assert_eq!(
            body,
            json!({"messaging_product": "whatsapp", "to": digits, "type": "template",
                "template": {"name": "spring_sale", "language": {"code": "en_US"}}})
        );
        to.push(digits);
        // Each message is `sent` with the wamid the provider gave it.
        let wamid = r.id.clone().unwrap();
        let m = app
            .state
            .store
            .message_by_channel_id(&p.id, Channel::Whatsapp, &wamid)
            .await
            .unwrap()
            .expect("the broadcast's message");
        assert_eq!(m.delivery_status, "sent");
        assert_eq!(m.body, "Spring sale: 20% off this week.");
        assert_eq!(m.sender, "agent");
    }
    to.sort();
    assert_eq!(to, ["16505550001", "16505550002", "16505550003"]);

    // Status webhooks move the broadcast's figures.
    wa_status(&app, &p.id, reqs[0].id.as_deref().unwrap(), "delivered").await;
    wa_status(&app, &p.id, reqs[1].id.as_deref().unwrap(), "read").await;
    let shown = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{}/broadcasts/{bid}", p.id),
        )
        .await;
    assert_eq!(
        shown["by_status"],
        json!({"queued": 0, "sent": 1, "delivered": 1, "read": 1, "failed": 0})
    );
    assert_eq!(shown["status"], "done");

    // The thread shows the template message with its text.
    let cid = app
        .state
        .store
        .message_by_channel_id(&p.id, Channel::Whatsapp, reqs[2].id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap()
        .conversation_id;
    let thread = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}/messages", p.id),
        )
        .await;
    assert_eq!(
        thread["messages"][0]["body"],
        "Spring sale: 20% off this week."
    );
    assert_eq!(
        thread["messages"][0]["template"],
        json!({"name": "spring_sale", "language": "en_US"})
    );

    // Listed newest first.
    let again = create(&app, &owner, &p.id, broadcast(&sid)).await;
    settled(&app, &owner, &p.id, again["id"].as_str().unwrap()).await;
    let list = app
        .get_json(&owner, &format!("/api/v1/projects/{}/broadcasts", p.id))
        .await;
    let ids: Vec<&str> = list["broadcasts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [again["id"].as_str().unwrap(), bid]);
}

async fn a_refused_recipient_fails_alone(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let sid = setup(&app, &owner, &p.id, &fake).await;
    people(&app, &p.write_key).await;
    let refusal = json!({"error": {"message": "Template name does not exist in the translation",
        "type": "OAuthException", "code": 132001, "fbtrace_id": "Xy"}});
    fake.script(&[(400, refusal)]);
    let b = create(&app, &owner, &p.id, broadcast(&sid)).await;
    let bid = b["id"].as_str().unwrap();
    let shown = settled(&app, &owner, &p.id, bid).await;
    assert_eq!(
        shown["by_status"],
        json!({"queued": 0, "sent": 2, "delivered": 0, "read": 0, "failed": 1})
    );
    let reqs = fake.requests();
    assert_eq!(
        reqs.len(),
        3,
        "the refusal is not retried, the others go out"
    );
    assert_eq!(fake.accepted().len(), 2);
}

async fn broadcast_validation_roles_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let path = format!("/api/v1/projects/{}/broadcasts", p.id);
    let seg = json!({"name": "Promo", "criteria": {"field": "trait", "key": "group", "op": "eq", "value": "promo"}});
    let seg = created(
        app.post(&owner, &format!("/api/v1/projects/{}/segments", p.id), seg)
            .await,
    )
    .await;
    let sid = seg["id"].as_str().unwrap();

    // No WhatsApp channel yet: 409.
    let res = app.post(&owner, &path, broadcast(sid)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let fake = FakeProvider::start().await;
    let mut body = whatsapp_body();
    body["api_base_url"] = json!(format!("{}/v21.0", fake.url));
    configure(&app, &owner, &p.id, "whatsapp", body).await;

    let field_of = |v: &Value| v["error"]["field"].as_str().map(str::to_owned);
    for (body, field) in [
        (
            json!({"template": {"name": "a", "language": "en"}, "body": "x"}),
            "segment_id",
        ),
        (
            json!({"segment_id": "nope", "template": {"name": "a", "language": "en"}, "body": "x"}),
            "segment_id",
        ),
        (
            json!({"segment_id": sid, "template": {"name": "Bad-Name", "language": "en"}, "body": "x"}),
            "template.name",
        ),
        (
            json!({"segment_id": sid, "template": {"name": "ok", "language": "english"}, "body": "x"}),
            "template.language",
        ),
        (
            json!({"segment_id": sid, "template": {"name": "ok"}, "body": "x"}),
            "template.language",
        ),
        (json!({"segment_id": sid, "body": "x"}), "template"),
        (
            json!({"segment_id": sid, "template": {"name": "ok", "language": "en"}}),
            "body",
        ),
        (
            json!({"segment_id": sid, "template": {"name": "ok", "language": "en"}, "body": "x", "extra": 1}),
            "extra",
        ),
    ] {
        let res = app.post(&owner, &path, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(field_of(&v).as_deref(), Some(field), "{body}: {v}");
    }

    let b = create(&app, &owner, &p.id, broadcast(sid)).await;
    assert_eq!(
        (b["recipients"].as_i64(), b["skipped"].as_i64()),
        (Some(0), Some(0))
    );
    let one = format!("{path}/{}", b["id"].as_str().unwrap());
    for (role, status) in [
        (Role::Viewer, StatusCode::FORBIDDEN),
        (Role::Agent, StatusCode::FORBIDDEN),
        (Role::Supervisor, StatusCode::OK),
        (Role::Admin, StatusCode::OK),
    ] {
        let who = app.as_role(role).await;
        assert_eq!(app.get(&who, &path).await.status(), status, "{role:?}");
        assert_eq!(app.get(&who, &one).await.status(), status, "{role:?}");
        let res = app.post(&who, &path, broadcast(sid)).await;
        let want = if status == StatusCode::OK {
            StatusCode::ACCEPTED
        } else {
            status
        };
        assert_eq!(res.status(), want, "{role:?}");
    }
    let missing = format!("{path}/00000000-0000-0000-0000-000000000000");
    assert_eq!(
        app.get(&owner, &missing).await.status(),
        StatusCode::NOT_FOUND
    );

    // Another project: its members do not see this one's broadcasts.
    let other = app.create_project(&owner, "Private shop").await;
    let supervisor = session_from(app.login("supervisor@example.com", OWNER_PASSWORD).await);
    let other_path = format!("/api/v1/projects/{}/broadcasts", other.id);
    assert_eq!(
        app.get(&supervisor, &other_path).await.status(),
        StatusCode::NOT_FOUND
    );
    let res = app.post(&supervisor, &other_path, broadcast(sid)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The owner's other project does not know this one's broadcast or segment.
    let foreign = format!("{other_path}/{}", b["id"].as_str().unwrap());
    assert_eq!(
        app.get(&owner, &foreign).await.status(),
        StatusCode::NOT_FOUND
    );
    let list = app.get_json(&owner, &other_path).await;
    assert_eq!(list["broadcasts"], json!([]));
}

on_both_backends!(
    broadcast_sends_one_template_per_phone,
    a_refused_recipient_fails_alone,
    broadcast_validation_roles_and_tenants,
);
