//! Outbound delivery against a local fake Graph/Twilio server: a reply is
//! stored `queued` and delivered by the sender with the provider's id; a
//! 503 is retried after its backoff and delivered once; a 400 fails with
//! the provider's reason (and can be queued again); queued replies survive
//! a restart and each goes out exactly once; one project's failing
//! provider does not hold up another's; the queue endpoint's figures,
//! roles and tenants.

use std::time::Duration;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_server::config::Config;
use vibe_store::Role;

use crate::channels::*;
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::{configure, form, tw_sign, wa_sign};

const PHONE: &str = "16505551234";

/// Fast polling for tests; retries wait for the test clock, not real time.
fn fast(c: &mut Config) {
    c.outbound_poll_every = Duration::from_millis(30);
}

async fn wa_post(app: &TestApp, pid: &str, body: &Value) {
    let body = body.to_string();
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

fn wa_message(id: &str, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": PHONE}],
            "messages": [{"from": PHONE, "id": id, "timestamp": "1749416383",
                "type": "text", "text": {"body": body}}]}}]}]})
}

fn wa_status(id: &str, status: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": id, "status": status, "timestamp": "1749416400",
                "recipient_id": PHONE}]}}]}]})
}

/// WhatsApp configured against `fake`, and a contact's conversation on it.
async fn whatsapp_conversation(
    app: &TestApp,
    owner: &Session,
    pid: &str,
    fake: &FakeProvider,
) -> String {
    let mut body = whatsapp_body();
    body["api_base_url"] = json!(format!("{}/v21.0", fake.url));
    configure(app, owner, pid, "whatsapp", body).await;
    wa_post(app, pid, &wa_message("wamid.IN1", "Where is my order?")).await;
    let list = app
        .get_json(
            owner,
            &format!("/api/v1/projects/{pid}/conversations?channel=whatsapp"),
        )
        .await;
    list["conversations"][0]["id"].as_str().unwrap().to_owned()
}

async fn reply(app: &TestApp, who: &Session, pid: &str, cid: &str, text: &str) -> Value {
    let res = app
        .post(
            who,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
            json!({ "body": text }),
        )
        .await;
    created(res).await
}

async fn message(app: &TestApp, pid: &str, id: &str) -> vibe_store::inbox::Message {
    app.state
        .store
        .message_by_id(pid, id)
        .await
        .unwrap()
        .expect("the message")
}

/// Waits (real time) until message `id` leaves `queued`.
async fn settled(app: &TestApp, pid: &str, id: &str) -> vibe_store::inbox::Message {
    for _ in 0..500 {
        let m = message(app, pid, id).await;
        if m.delivery_status != "queued" {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = app
        .state
        .store
        .outbound_queue_stats(pid, app.clock.now_ms())
        .await
        .unwrap();
    panic!("message {id} stayed queued: {stats:?}");
}

/// Waits until `fake` saw `n` requests.
async fn requests(fake: &FakeProvider, n: usize) -> Vec<ProviderRequest> {
    for _ in 0..500 {
        let r = fake.requests();
        if r.len() >= n {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the provider saw {} requests, not {n}",
        fake.requests().len()
    );
}

async fn queue(app: &TestApp, who: &Session, pid: &str) -> Value {
    app.get_json(who, &format!("/api/v1/projects/{pid}/outbound/queue"))
        .await
}

async fn whatsapp_reply_is_delivered_and_tracked(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    let m = reply(&app, &owner, &p.id, &cid, "It ships tomorrow.").await;
    assert_eq!(m["delivery_status"], "queued", "stored before any send");
    let id = m["id"].as_str().unwrap();

    let sent = settled(&app, &p.id, id).await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.path, "/v21.0/106540352242922/messages");
    assert_eq!(
        r.authorization.as_deref(),
        Some(format!("Bearer {WA_ACCESS_TOKEN}").as_str())
    );
    assert!(r
        .content_type
        .as_deref()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        body,
        json!({"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": PHONE, "type": "text", "text": {"preview_url": false, "body": "It ships tomorrow."}})
    );
    assert_eq!(sent.delivery_status, "sent");
    assert_eq!(sent.channel_message_id, r.id);
    assert!(sent.sent_at.is_some());
    assert_eq!(app.state.metrics.outbound_sent.get("whatsapp"), 1);

    // The provider's status webhook finds it by that id.
    let wamid = r.id.clone().unwrap();
    wa_post(&app, &p.id, &wa_status(&wamid, "delivered")).await;
    assert_eq!(message(&app, &p.id, id).await.delivery_status, "delivered");
    let q = queue(&app, &owner, &p.id).await;
    assert_eq!(
        (
            q["queued"].as_i64(),
            q["sending"].as_i64(),
            q["sent_1h"].as_i64()
        ),
        (Some(0), Some(0), Some(1))
    );
    assert_eq!(q["by_channel"][0]["channel"], "whatsapp");
    let metrics = app
        .bare(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("vibe_outbound_sent_total{channel=\"whatsapp\"} 1"));
    assert!(metrics.contains("# TYPE vibe_outbound_queue_depth gauge"));
    // An internal note is never sent.
    let res = app
        .post(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}/messages", p.id),
            json!({"body": "note to self", "private": true}),
        )
        .await;
    assert_eq!(created(res).await["delivery_status"], "sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fake.requests().len(), 1);
}

async fn twilio_sms_and_whatsapp_replies(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let mut body = twilio_body();
    body["api_base_url"] = json!(fake.url);
    configure(&app, &owner, &p.id, "twilio", body).await;
    // A contact writes over SMS and over WhatsApp (Twilio's sandbox).
    let path = format!("/api/v1/webhooks/twilio/{}", p.id);
    for (sid, from) in [
        ("SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb01", "+16505551234"),
        (
            "SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb02",
            "whatsapp:+16505551234",
        ),
    ] {
        let params = [
            ("MessageSid", sid),
            ("AccountSid", TW_SID),
            ("From", from),
            ("To", "+15557654321"),
            ("Body", "Hello?"),
        ];
        let res = app
            .bare(Method::POST, &path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "x-twilio-signature",
                tw_sign(TW_AUTH_TOKEN, &app.url(&path), &params),
            )
            .body(form(&params))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut cids = Vec::new();
    for channel in ["sms", "whatsapp"] {
        let list = app
            .get_json(
                &owner,
                &format!("/api/v1/projects/{}/conversations?channel={channel}", p.id),
            )
            .await;
        cids.push(list["conversations"][0]["id"].as_str().unwrap().to_owned());
    }
    // With a public URL known, Twilio is told where to send the statuses
    // (an API token: the dashboard's origin is no longer this test's).
    let token = app.api_token(&owner, "replies").await;
    let public = "https://vibe.example.com";
    let app = app.restart(|c| c.public_url = Some(public.into())).await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TW_SID}:{TW_AUTH_TOKEN}"))
    );
    for (n, (channel, to, from)) in [
        ("sms", "+16505551234", "+15557654321"),
        ("whatsapp", "whatsapp:+16505551234", "whatsapp:+15557654321"),
    ]
    .into_iter()
    .enumerate()
    {
        let cid = &cids[n];
        let text = format!("Yes & on {channel}");
        let res = app
            .call_bearer(
                &token,
                Method::POST,
                &format!("/api/v1/projects/{}/conversations/{cid}/messages", p.id),
                Some(json!({ "body": text })),
            )
            .await;
        let m = created(res).await;
        let sent = settled(&app, &p.id, m["id"].as_str().unwrap()).await;
        let reqs = requests(&fake, n + 1).await;
        let r = &reqs[n];
        assert_eq!(
            r.path,
            format!("/2010-04-01/Accounts/{TW_SID}/Messages.json")
        );
        assert_eq!(r.authorization.as_deref(), Some(basic.as_str()));
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        let callback = format!("{public}{path}");
        let expected = form(&[
            ("To", to),
            ("From", from),
            ("Body", &text),
            ("StatusCallback", &callback),
        ]);
        assert_eq!(
            r.body.replace("%20", "+"),
            expected.replace("%20", "+"),
            "{channel}"
        );
        assert_eq!(sent.delivery_status, "sent");
        let sid = sent.channel_message_id.unwrap();
        assert!(sid.starts_with("SM") && Some(&sid) == r.id.as_ref());
    }
}

async fn retry_after_503_delivers_once(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    fake.script(&[(
        503,
        json!({"error": {"message": "Service temporarily unavailable", "code": 2}}),
    )]);
    let m = reply(&app, &owner, &p.id, &cid, "One moment.").await;
    let id = m["id"].as_str().unwrap();
    requests(&fake, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(message(&app, &p.id, id).await.delivery_status, "queued");
    assert_eq!(fake.requests().len(), 1, "not retried before its backoff");
    let q = queue(&app, &owner, &p.id).await;
    assert_eq!(
        (q["queued"].as_i64(), q["sending"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(app.state.metrics.outbound_retries.get("whatsapp"), 1);

    app.clock.advance_ms(10_001);
    let sent = settled(&app, &p.id, id).await;
    assert_eq!(sent.delivery_status, "sent");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(fake.accepted().len(), 1, "delivered exactly once");
    assert_eq!(reqs[0].body, reqs[1].body);
}

async fn provider_refusal_fails_with_its_reason(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    fake.script(&[(
        400,
        json!({"error": {"message": "Recipient phone number not in allowed list",
            "type": "OAuthException", "code": 131030, "error_subcode": 2494010, "fbtrace_id": "AbCd"}}),
    )]);
    let m = reply(&app, &owner, &p.id, &cid, "Hi there").await;
    let id = m["id"].as_str().unwrap().to_owned();
    let failed = settled(&app, &p.id, &id).await;
    assert_eq!(failed.delivery_status, "failed");
    let reason = failed.failed_reason.unwrap();
    assert!(
        reason.contains("(#131030) Recipient phone number not in allowed list"),
        "{reason}"
    );
    assert_eq!(app.state.metrics.outbound_failed.get("whatsapp"), 1);
    let q = queue(&app, &owner, &p.id).await;
    assert_eq!(q["failed_24h"], 1);

    // An agent queues it again; now it goes out.
    let retry = format!(
        "/api/v1/projects/{}/conversations/{cid}/messages/{id}/retry",
        p.id
    );
    let agent = app.as_role(Role::Agent).await;
    let res = app.post(&agent, &retry, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["delivery_status"], "queued");
    let again = settled(&app, &p.id, &id).await;
    assert_eq!(
        (again.delivery_status.as_str(), again.failed_reason),
        ("sent", None)
    );
    let res = app.post(&owner, &retry, json!({})).await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a sent message is not retried"
    );
    assert_eq!(fake.accepted().len(), 1);
}

async fn an_unknown_outcome_is_never_sent_again(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    // Accepted (2xx) but without the message id: it may have gone out.
    fake.script(&[(200, json!({"messaging_product": "whatsapp"}))]);
    let m = reply(&app, &owner, &p.id, &cid, "Maybe twice?").await;
    let id = m["id"].as_str().unwrap();
    let failed = settled(&app, &p.id, id).await;
    assert_eq!(failed.delivery_status, "failed");
    let reason = failed.failed_reason.unwrap();
    assert!(
        reason.starts_with("outcome unknown") && reason.contains("not retried"),
        "{reason}"
    );
    app.clock.advance_ms(7_200_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.requests().len(), 1, "never tried again");
}

async fn restart_delivers_each_queued_reply_once(backend: Backend) {
    // The provider is down and retries are an hour apart.
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        fast(c);
        c.outbound_retry_base_ms = 3_600_000;
    })
    .await
    else {
        return;
    };
    let fake = FakeProvider::start().await;
    fake.default_answer(Some((503, json!({"error": {"message": "down"}}))));
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let m = reply(&app, &owner, &p.id, &cid, &format!("reply {i:02}")).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    requests(&fake, 20).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let q = queue(&app, &owner, &p.id).await;
    assert_eq!(q["queued"], 20);

    // A new server on the same database, the provider back up.
    fake.default_answer(None);
    let app = app.restart(fast).await;
    app.clock.advance_ms(3_600_001);
    for id in &ids {
        assert_eq!(settled(&app, &p.id, id).await.delivery_status, "sent");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), 20);
    let mut bodies: Vec<String> = accepted
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["text"]["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 20, "each reply delivered exactly once");
    for (id, r) in ids.iter().zip(0..) {
        let m = message(&app, &p.id, id).await;
        let by_provider = accepted.iter().find(|a| a.id == m.channel_message_id);
        assert!(
            by_provider.is_some(),
            "reply {r} stored the id it was sent as"
        );
    }
    let owner = app.login_owner().await;
    let q = queue(&app, &owner, &p.id).await;
    assert_eq!(
        (q["queued"].as_i64(), q["sent_1h"].as_i64()),
        (Some(0), Some(20))
    );
}

/// Two nodes on one PostgreSQL database both run a sender: every reply goes
/// out exactly once.
async fn two_nodes_never_send_a_reply_twice(backend: Backend) {
    if matches!(backend, Backend::Sqlite) {
        return; // one process per SQLite database
    }
    // Nodes sharing a database share the key sealing channel secrets.
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        fast(c);
        c.secret_key = Some(vibe_core::secret::Secret::new(key));
    })
    .await
    else {
        return;
    };
    let second = spawn_second_node(&app, |_| {}).await;
    let fake = FakeProvider::start().await;
    let cid = whatsapp_conversation(&app, &owner, &p.id, &fake).await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let m = reply(&app, &owner, &p.id, &cid, &format!("both {i:02}")).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
        // The other node is woken by its poll only; wake it too.
        second.state.outbound.wake.notify_one();
    }
    for id in &ids {
        assert_eq!(settled(&app, &p.id, id).await.delivery_status, "sent");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accepted = fake.accepted();
    let mut bodies: Vec<String> = accepted.iter().map(|r| r.body.clone()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!((accepted.len(), bodies.len()), (30, 30));
    let by_node = [&app, &second].map(|a| a.state.metrics.outbound_sent.get("whatsapp"));
    assert_eq!(by_node[0] + by_node[1], 30);
    second.stop().await;
}

async fn a_failing_provider_does_not_stall_another_project(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let fake = FakeProvider::start().await;
    let down = FakeProvider::start().await;
    down.default_answer(Some((503, json!({"error": {"message": "down"}}))));
    let cid_down = whatsapp_conversation(&app, &owner, &p.id, &down).await;
    let q = app.create_project(&owner, "Second shop").await;
    let cid_up = whatsapp_conversation(&app, &owner, &q.id, &fake).await;
    for i in 0..10 {
        reply(&app, &owner, &p.id, &cid_down, &format!("down {i}")).await;
    }
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = reply(&app, &owner, &q.id, &cid_up, &format!("up {i}")).await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        assert_eq!(settled(&app, &q.id, id).await.delivery_status, "sent");
    }
    assert_eq!(fake.accepted().len(), 5);
    let first = queue(&app, &owner, &p.id).await;
    assert_eq!(first["sent_1h"], 0);
    let second = queue(&app, &owner, &q.id).await;
    assert_eq!(
        (second["queued"].as_i64(), second["sent_1h"].as_i64()),
        (Some(0), Some(5))
    );
}

async fn queue_endpoint_roles_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, fast).await else {
        return;
    };
    let path = format!("/api/v1/projects/{}/outbound/queue", p.id);
    let empty = app.get_json(&owner, &path).await;
    assert_eq!(
        empty,
        json!({"queued": 0, "sending": 0, "failed_24h": 0, "sent_1h": 0, "by_channel": []})
    );
    for (role, status) in [
        (Role::Viewer, StatusCode::FORBIDDEN),
        (Role::Agent, StatusCode::FORBIDDEN),
        (Role::Supervisor, StatusCode::OK),
        (Role::Admin, StatusCode::OK),
    ] {
        let who = app.as_role(role).await;
        assert_eq!(app.get(&who, &path).await.status(), status, "{role:?}");
    }
    // A project they are not members of: 404, nothing of it.
    let other = app.create_project(&owner, "Private shop").await;
    let supervisor = app.login("supervisor@example.com", OWNER_PASSWORD).await;
    let supervisor = session_from(supervisor);
    let res = app
        .get(
            &supervisor,
            &format!("/api/v1/projects/{}/outbound/queue", other.id),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

on_both_backends!(
    whatsapp_reply_is_delivered_and_tracked,
    twilio_sms_and_whatsapp_replies,
    retry_after_503_delivers_once,
    provider_refusal_fails_with_its_reason,
    an_unknown_outcome_is_never_sent_again,
    restart_delivers_each_queued_reply_once,
    a_failing_provider_does_not_stall_another_project,
    two_nodes_never_send_a_reply_twice,
    queue_endpoint_roles_and_tenants,
);
