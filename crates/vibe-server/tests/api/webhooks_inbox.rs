//! What a verified channel webhook stores: a person per phone number, their
//! messages threaded into a conversation (a retry stores nothing twice),
//! delivery statuses forward only (a late `delivered` leaves `read`, `failed`
//! keeps the provider's reason); refused requests store nothing, and a
//! project's webhook never touches another project's conversations.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::inbox::{DeliveryStatus, Direction, NewMessage, Scope, Sender};

use crate::channels::*;
use crate::helpers::*;
use crate::on_both_backends;
use crate::webhooks::{configure, form, tw_sign, wa_sign};

const PHONE: &str = "16505551234";
/// The Contact page's id for that number (`tel:` user id, URL-encoded).
const CONTACT: &str = "tel:%2B16505551234";

fn wa_message(id: &str, from: &str, ts: i64, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": ts.to_string(),
                "type": "text", "text": {"body": body}}]}}]}]})
}

fn wa_status(id: &str, status: &str, ts: i64, errors: Option<Value>) -> Value {
    let mut s = json!({"id": id, "status": status, "timestamp": ts.to_string(),
        "recipient_id": PHONE});
    if let Some(e) = errors {
        s["errors"] = e;
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [s]}}]}]})
}

async fn wa_post(app: &TestApp, pid: &str, secret: &str, body: &Value) -> StatusCode {
    let body = body.to_string();
    app.bare(Method::POST, &format!("/api/v1/webhooks/whatsapp/{pid}"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", wa_sign(secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn tw_post(app: &TestApp, pid: &str, params: &[(&str, &str)]) -> StatusCode {
    let path = format!("/api/v1/webhooks/twilio/{pid}");
    let url = app.url(&path);
    app.bare(Method::POST, &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", tw_sign(TW_AUTH_TOKEN, &url, params))
        .body(form(params))
        .send()
        .await
        .unwrap()
        .status()
}

async fn conversations(app: &TestApp, owner: &Session, pid: &str, q: &str) -> Vec<Value> {
    let body = app
        .get_json(owner, &format!("/api/v1/projects/{pid}/conversations?{q}"))
        .await;
    body["conversations"].as_array().expect("a list").clone()
}

/// Oldest first.
async fn thread(app: &TestApp, owner: &Session, pid: &str, cid: &str) -> Vec<Value> {
    let body = app
        .get_json(
            owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
        )
        .await;
    let mut v = body["messages"].as_array().expect("a list").clone();
    v.reverse();
    v
}

/// A reply the (future) sender handed to the provider, numbered `wamid`.
async fn outbound(app: &TestApp, pid: &str, cid: &str, provider_id: &str, at: i64) -> String {
    let id = format!("out-{provider_id}");
    let m = NewMessage {
        id: id.clone(),
        conversation_id: cid.into(),
        direction: Direction::Out,
        sender: Sender::Agent,
        sender_account_id: None,
        body: "Yes, in blue.".into(),
        private: false,
        attachments: "[]".into(),
        delivery_status: DeliveryStatus::Sent,
        channel_message_id: Some(provider_id.into()),
        created_at: at,
    };
    let added = app.state.store.add_message(pid, &Scope::All, &m).await;
    assert!(added.unwrap().is_some());
    id
}

async fn message(app: &TestApp, owner: &Session, pid: &str, cid: &str, id: &str) -> Value {
    thread(app, owner, pid, cid)
        .await
        .into_iter()
        .find(|m| m["id"] == id)
        .expect("the message")
}

fn stored(app: &TestApp, channel: &str, outcome: &str) -> u64 {
    app.state.metrics.webhook_stored.get(channel, outcome)
}

async fn whatsapp_messages_become_a_conversation(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let t0 = 1_749_416_383;
    let first = wa_message("wamid.A", PHONE, t0, "Does it come in another color?");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &first).await,
        StatusCode::OK
    );

    // The person: found by the number's user id, named by the profile.
    let person = app
        .state
        .store
        .find_user(&p.id, "tel:+16505551234")
        .await
        .unwrap()
        .expect("a person for the number");
    assert_eq!(person.id, "uid:tel:+16505551234");
    assert_eq!(person.identity.name.as_deref(), Some("Sheena Nelson"));
    let traits: Value = serde_json::from_str(&person.traits).unwrap();
    assert_eq!(traits["phone"], "+16505551234");
    assert_eq!(person.first_seen, t0 * 1000);

    // Its conversation, on the Contact page too.
    let convs = conversations(&app, &owner, &p.id, "").await;
    assert_eq!(convs.len(), 1);
    let c = &convs[0];
    let cid = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["channel"], "whatsapp");
    assert_eq!(c["status"], "open");
    assert_eq!(c["site_user_id"], "uid:tel:+16505551234");
    assert_eq!(c["contact_name"], "Sheena Nelson");
    assert_eq!(c["first_inbound_at"], t0 * 1000);
    assert_eq!(c["first_response_at"], Value::Null);
    assert_eq!(c["unread_count"], 1);
    let contact = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{}/users/{CONTACT}/conversations", p.id),
        )
        .await;
    assert_eq!(contact["conversations"][0]["id"], cid.as_str());
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["direction"], "in");
    assert_eq!(msgs[0]["sender"], "contact");
    assert_eq!(msgs[0]["body"], "Does it come in another color?");
    assert_eq!(msgs[0]["channel_message_id"], "wamid.A");
    assert_eq!(msgs[0]["created_at"], t0 * 1000);

    // The provider retries: nothing is stored twice.
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &first).await,
        StatusCode::OK
    );
    assert_eq!(thread(&app, &owner, &p.id, &cid).await.len(), 1);
    assert_eq!(
        conversations(&app, &owner, &p.id, "").await[0]["unread_count"],
        1
    );
    assert_eq!(stored(&app, "whatsapp", "message_duplicate"), 1);
    assert_eq!(stored(&app, "whatsapp", "person_created"), 1);

    // A second message appends to the same conversation.
    let second = wa_message("wamid.B", PHONE, t0 + 60, "And in XL?");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &second).await,
        StatusCode::OK
    );
    let convs = conversations(&app, &owner, &p.id, "").await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["unread_count"], 2);
    assert_eq!(convs[0]["first_inbound_at"], t0 * 1000);
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["body"], "And in XL?");

    // The new person counts as one new user, as the rebuild counts them.
    let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
    let day = tz.day_of(t0 * 1000);
    let store = app.state.store.as_ref();
    let before = store.daily_stats(&p.id, &day, &day).await.unwrap();
    assert_eq!(before[0].counts.new_users, 1);
    let date = tz.date_of(t0 * 1000);
    vibe_store::rollup::rebuild(store, &p, date, date)
        .await
        .unwrap();
    assert_eq!(store.daily_stats(&p.id, &day, &day).await.unwrap(), before);

    // A resolved conversation is reopened by the contact's next message.
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}", p.id),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let third = wa_message("wamid.C", PHONE, t0 + 3600, "Hello again");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &third).await,
        StatusCode::OK
    );
    let convs = conversations(&app, &owner, &p.id, "").await;
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0]["status"], "open");
    assert_eq!(convs[0]["opened_at"], (t0 + 3600) * 1000);
    app.stop().await;
}

async fn whatsapp_statuses_only_move_forward(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let t0 = 1_750_000_000;
    let hi = wa_message("wamid.IN", PHONE, t0, "Hi");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &hi).await,
        StatusCode::OK
    );
    let cid = conversations(&app, &owner, &p.id, "").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ok = outbound(&app, &p.id, &cid, "wamid.OUT1", (t0 + 10) * 1000).await;
    let bad = outbound(&app, &p.id, &cid, "wamid.OUT2", (t0 + 20) * 1000).await;

    // `read` arrives before `delivered`: the late `delivered` changes nothing.
    let read = wa_status("wamid.OUT1", "read", t0 + 40, None);
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &read).await,
        StatusCode::OK
    );
    let late = wa_status("wamid.OUT1", "delivered", t0 + 30, None);
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &late).await,
        StatusCode::OK
    );
    let m = message(&app, &owner, &p.id, &cid, &ok).await;
    assert_eq!(m["delivery_status"], "read");
    assert_eq!(m["read_at"], (t0 + 40) * 1000);
    assert_eq!(m["delivered_at"], (t0 + 40) * 1000);
    assert_eq!(stored(&app, "whatsapp", "status_applied"), 1);
    assert_eq!(stored(&app, "whatsapp", "status_unchanged"), 1);

    // `failed` keeps the provider's code and title.
    let errors = json!([{"code": 131047, "title": "Re-engagement message"}]);
    let failed = wa_status("wamid.OUT2", "failed", t0 + 50, Some(errors));
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &failed).await,
        StatusCode::OK
    );
    let m = message(&app, &owner, &p.id, &cid, &bad).await;
    assert_eq!(m["delivery_status"], "failed");
    assert_eq!(m["failed_reason"], "131047: Re-engagement message");

    // A status for a message Vibe never sent: 200, counted, nothing stored.
    let unknown = wa_status("wamid.NOPE", "delivered", t0 + 60, None);
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &unknown).await,
        StatusCode::OK
    );
    assert_eq!(stored(&app, "whatsapp", "status_unknown"), 1);
    // Statuses never touch inbound messages, even with a known id.
    let inbound_id = wa_status("wamid.IN", "failed", t0 + 70, None);
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &inbound_id).await,
        StatusCode::OK
    );
    assert_eq!(stored(&app, "whatsapp", "status_unknown"), 2);
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs[0]["delivery_status"], "delivered");
    app.stop().await;
}

async fn twilio_sms_and_status_callbacks(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "twilio", twilio_body()).await;
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let sms = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", TW_SID),
        ("From", "+16505551234"),
        ("To", "+15557654321"),
        ("Body", "Is my order shipped?"),
        ("NumMedia", "1"),
        ("MediaUrl0", "https://api.twilio.com/media/ME1"),
        ("MediaContentType0", "image/jpeg"),
    ];
    assert_eq!(tw_post(&app, &p.id, &sms).await, StatusCode::OK);
    assert_eq!(tw_post(&app, &p.id, &sms).await, StatusCode::OK);
    let convs = conversations(&app, &owner, &p.id, "channel=sms").await;
    assert_eq!(convs.len(), 1);
    let cid = convs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(convs[0]["site_user_id"], "uid:tel:+16505551234");
    // No profile name over SMS: the person has none yet.
    assert_eq!(convs[0]["contact_name"], Value::Null);
    let msgs = thread(&app, &owner, &p.id, &cid).await;
    assert_eq!(msgs.len(), 1, "the retry stored nothing");
    assert_eq!(msgs[0]["body"], "Is my order shipped?");
    assert_eq!(msgs[0]["direction"], "in");
    assert_eq!(stored(&app, "twilio", "message_duplicate"), 1);

    // The same number on WhatsApp: the same person, its own conversation,
    // and the profile name fills the missing name.
    let wa = wa_message("wamid.X", PHONE, 1_750_000_000, "Also here");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &wa).await,
        StatusCode::OK
    );
    let all = conversations(&app, &owner, &p.id, "").await;
    assert_eq!(all.len(), 2);
    assert!(all
        .iter()
        .all(|c| c["site_user_id"] == "uid:tel:+16505551234"));
    assert!(all.iter().all(|c| c["contact_name"] == "Sheena Nelson"));
    assert_eq!(stored(&app, "twilio", "person_created"), 1);
    assert_eq!(stored(&app, "whatsapp", "person_created"), 0);

    // Status callbacks of a reply: `delivered`, then `undelivered` is too
    // late for it; another reply fails with Twilio's code.
    let now = app.state.clock.now_ms();
    let ok = outbound(&app, &p.id, &cid, "SMok", now).await;
    let bad = outbound(&app, &p.id, &cid, "SMbad", now).await;
    let delivered = [("MessageSid", "SMok"), ("MessageStatus", "delivered")];
    assert_eq!(tw_post(&app, &p.id, &delivered).await, StatusCode::OK);
    let late = [
        ("MessageSid", "SMok"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
    ];
    assert_eq!(tw_post(&app, &p.id, &late).await, StatusCode::OK);
    let m = message(&app, &owner, &p.id, &cid, &ok).await;
    assert_eq!(m["delivery_status"], "delivered");
    assert_eq!(m["failed_reason"], Value::Null);
    let failed = [
        ("MessageSid", "SMbad"),
        ("MessageStatus", "failed"),
        ("ErrorCode", "30006"),
        ("ErrorMessage", "Landline or unreachable carrier"),
    ];
    assert_eq!(tw_post(&app, &p.id, &failed).await, StatusCode::OK);
    let m = message(&app, &owner, &p.id, &cid, &bad).await;
    assert_eq!(m["delivery_status"], "failed");
    assert_eq!(m["failed_reason"], "30006: Landline or unreachable carrier");
    let unknown = [("MessageSid", "SMnope"), ("MessageStatus", "read")];
    assert_eq!(tw_post(&app, &p.id, &unknown).await, StatusCode::OK);
    assert_eq!(stored(&app, "twilio", "status_unknown"), 1);
    app.stop().await;
}

async fn refused_and_other_projects_store_nothing(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let body = wa_message("wamid.A", PHONE, 1_750_000_000, "Hi");
    assert_eq!(
        wa_post(&app, &p.id, "not-the-app-secret", &body).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(conversations(&app, &owner, &p.id, "").await.is_empty());
    let found = app.state.store.find_user(&p.id, "tel:+16505551234").await;
    assert!(found.unwrap().is_none());

    // A's payload to B's URL, signed with B's secret: it is B's delivery.
    let other = app.create_project(&owner, "Other").await;
    let mut theirs = whatsapp_body();
    theirs["app_secret"] = json!("other-project-secret");
    configure(&app, &owner, &other.id, "whatsapp", theirs).await;
    assert_eq!(
        wa_post(&app, &other.id, "other-project-secret", &body).await,
        StatusCode::OK
    );
    assert!(conversations(&app, &owner, &p.id, "").await.is_empty());
    assert!(app
        .state
        .store
        .find_user(&p.id, "tel:+16505551234")
        .await
        .unwrap()
        .is_none());
    assert_eq!(conversations(&app, &owner, &other.id, "").await.len(), 1);

    // A's own delivery of the same message id is A's, not a duplicate of B's.
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &body).await,
        StatusCode::OK
    );
    let convs = conversations(&app, &owner, &p.id, "").await;
    assert_eq!(convs.len(), 1);
    let cid = convs[0]["id"].as_str().unwrap().to_owned();
    // B's status callbacks never move A's messages.
    let out = outbound(&app, &p.id, &cid, "wamid.OUT1", 1_750_000_010_000).await;
    let read = wa_status("wamid.OUT1", "read", 1_750_000_020, None);
    assert_eq!(
        wa_post(&app, &other.id, "other-project-secret", &read).await,
        StatusCode::OK
    );
    let m = message(&app, &owner, &p.id, &cid, &out).await;
    assert_eq!(m["delivery_status"], "sent");
    app.stop().await;
}

/// A webhook's messages and statuses reach the dashboards live
/// (`inbox.message`, `inbox.delivery`).
async fn webhooks_go_live(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    configure(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    let (mut ws, _) = crate::live::watch(&app, &p.id, &owner).await;
    let t0 = 1_750_000_000;
    let hi = wa_message("wamid.LIVE", PHONE, t0, "Is it live?");
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &hi).await,
        StatusCode::OK
    );
    let m = crate::chat::until_inbox(&mut ws, "inbox.message").await;
    assert_eq!(m["message"]["body"], "Is it live?");
    assert_eq!(m["conversation"]["channel"], "whatsapp");
    let cid = m["conversation"]["id"].as_str().unwrap().to_owned();
    let out = outbound(&app, &p.id, &cid, "wamid.LIVEOUT", (t0 + 10) * 1000).await;
    let read = wa_status("wamid.LIVEOUT", "read", t0 + 40, None);
    assert_eq!(
        wa_post(&app, &p.id, WA_APP_SECRET, &read).await,
        StatusCode::OK
    );
    let d = crate::chat::until_inbox(&mut ws, "inbox.delivery").await;
    assert_eq!(d["message_id"], out.as_str());
    assert_eq!(d["status"], "read");
    assert_eq!(d["conversation_id"], cid.as_str());
}

on_both_backends!(
    whatsapp_messages_become_a_conversation,
    whatsapp_statuses_only_move_forward,
    twilio_sms_and_status_callbacks,
    refused_and_other_projects_store_nothing,
    webhooks_go_live
);
