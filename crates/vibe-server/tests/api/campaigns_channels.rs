//! Campaigns on the channels other than email (issue 14 item 3): a push
//! campaign through the real push service process of `push.rs`
//! (`python/push_service.py`: verifies the VAPID JWT, decrypts with the
//! subscription's keys) — materialised only for contacts with a browser
//! (the others skipped `no_address`), each browser receiving the rendered
//! notification exactly once, a `410` browser removed without failing its
//! contact, an unsubscribed contact skipped; an in-app campaign whose
//! message each visitor reads in the widget (`/api/v1/chat/messages`),
//! posted into their existing conversation or a new one, sent once.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::chat::{bodies, enable_chat, say, thread, token};
use crate::helpers::*;
use crate::on_both_backends;
use crate::push::{public_key, push_call, PushService};

fn base(pid: &str) -> String {
    format!("/api/v1/projects/{pid}/campaigns")
}

/// A contact `anon` (named `name`) with one browser per status in
/// `statuses` (what its push service answers): the browsers' subscriptions.
async fn contact_with_browsers(
    app: &TestApp,
    p: &vibe_store::Project,
    service: &PushService,
    anon: &str,
    name: &str,
    statuses: &[u16],
) -> Vec<Value> {
    app.collect_ok(
        &p.write_key,
        vec![identify(
            anon,
            &format!("{anon}-s"),
            &format!("{anon}-user"),
            json!({"name": name}),
        )],
    )
    .await;
    let key = public_key(app, &p.write_key).await;
    let mut subs = Vec::new();
    for status in statuses {
        let sub = service.subscribe(&key, *status).await;
        let res = push_call(
            app,
            "subscribe",
            json!({"key": p.write_key, "anonymous_id": anon, "subscription": sub}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        subs.push(sub);
    }
    subs
}

async fn until_status(app: &TestApp, who: &Session, pid: &str, cid: &str, status: &str) -> Value {
    for _ in 0..400 {
        let c = app.get_json(who, &format!("{}/{cid}", base(pid))).await;
        if c["status"] == status {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("campaign {cid} never became {status}");
}

async fn push_campaign_reaches_each_browser_once(backend: Backend) {
    let Some(service) = PushService::start() else {
        return;
    };
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        c.push_allow_http = true;
        c.outbound_poll_every = Duration::from_millis(50);
    })
    .await
    else {
        return;
    };
    let ada = contact_with_browsers(&app, &p, &service, "ada", "Ada", &[201]).await;
    // Two browsers, one of them gone (410): Bob still counts as sent once.
    let bob = contact_with_browsers(&app, &p, &service, "bob", "Bob", &[201, 410]).await;
    let gone = contact_with_browsers(&app, &p, &service, "cy", "Cy", &[201]).await;
    app.collect_ok(
        &p.write_key,
        vec![identify("dee", "dee-s", "dee-user", json!({"name": "Dee"}))],
    )
    .await;
    let cy = app
        .state
        .store
        .find_user(&p.id, "cy-user")
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .add_unsubscribe(&p.id, "push", &cy.id, None, None, 0)
        .await
        .unwrap();

    let t = created(
        app.post(
            &owner,
            &format!("/api/v1/projects/{}/templates", p.id),
            json!({"name": "Sale", "channel": "push", "push": {
                "title": "Sale for {{ contact.name }}",
                "body": "Hi {{ contact.name }}, 20 % off ✨",
                "url": "https://shop.example/sale",
                "icon": "https://shop.example/icon.png"}}),
        )
        .await,
    )
    .await;
    let c = created(
        app.post(
            &owner,
            &base(&p.id),
            json!({"name": "Push sale", "channel": "push", "template_id": t["id"],
                "segment": "all", "rate_per_minute": 6000}),
        )
        .await,
    )
    .await;
    let cid = c["id"].as_str().unwrap();
    let res = app
        .post(&owner, &format!("{}/{cid}/send", base(&p.id)), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["recipients"], 4);
    assert_eq!(
        c["progress"]["skipped"],
        json!({"total": 2, "no_address": 1, "unsubscribed": 1, "bounced": 0})
    );
    let done = until_status(&app, &owner, &p.id, cid, "sent").await;
    assert_eq!(
        (&done["progress"]["sent"], &done["progress"]["failed"]),
        (&json!(2), &json!(0)),
        "{done}"
    );
    // A little later: still exactly once per browser.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (sub, name) in [(&ada[0], "Ada"), (&bob[0], "Bob"), (&bob[1], "Bob")] {
        let got = service.received(sub).await;
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        assert_eq!(got[0]["ok"], true, "{}", got[0]);
        let shown: Value = serde_json::from_str(got[0]["plaintext"].as_str().unwrap()).unwrap();
        assert_eq!(
            shown,
            json!({"title": format!("Sale for {name}"), "body": format!("Hi {name}, 20 % off ✨"),
                "url": "https://shop.example/sale", "icon": "https://shop.example/icon.png"})
        );
    }
    assert!(service.received(&gone[0]).await.is_empty(), "unsubscribed");
    // The 410 browser is removed; Bob's other one stays.
    let bob_id = app
        .state
        .store
        .find_user(&p.id, "bob-user")
        .await
        .unwrap()
        .unwrap()
        .id;
    let left = app
        .state
        .store
        .push_subscriptions_of(&p.id, &bob_id)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].endpoint, bob[0]["endpoint"].as_str().unwrap());
    let skipped = app
        .get_json(
            &owner,
            &format!("{}/{cid}/recipients?status=skipped", base(&p.id)),
        )
        .await;
    let mut reasons: Vec<&str> = skipped["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["skip_reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["no_address", "unsubscribed"]);
}

async fn in_app_campaign_shows_in_the_widget(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, |c| {
        c.outbound_poll_every = Duration::from_millis(50);
    })
    .await
    else {
        return;
    };
    enable_chat(&app, &owner, &p.id, true).await;
    for (anon, name) in [("ada", "Ada"), ("bob", "Bob")] {
        app.collect_ok(
            &p.write_key,
            vec![identify(
                anon,
                &format!("{anon}-s"),
                &format!("{anon}-user"),
                json!({"name": name}),
            )],
        )
        .await;
    }
    let ada = token(&app, &p.write_key, "ada").await;
    let bob = token(&app, &p.write_key, "bob").await;
    // Ada has a conversation already; Bob gets one.
    say(&app, &ada, "hello?").await;
    let c = created(
        app.post(
            &owner,
            &base(&p.id),
            json!({"name": "News", "channel": "in_app", "segment": "all",
                "content": {"body_text": "Hi {{ contact.name }}, we launched ✨"},
                "rate_per_minute": 6000}),
        )
        .await,
    )
    .await;
    let cid = c["id"].as_str().unwrap();
    let res = app
        .post(&owner, &format!("{}/{cid}/send", base(&p.id)), json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c: Value = res.json().await.unwrap();
    assert_eq!(
        (&c["recipients"], &c["progress"]["skipped"]["total"]),
        (&json!(2), &json!(0))
    );
    let done = until_status(&app, &owner, &p.id, cid, "sent").await;
    assert_eq!(done["progress"]["sent"], 2, "{done}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = thread(&app, &ada).await;
    assert_eq!(bodies(&t), ["hello?", "Hi Ada, we launched ✨"]);
    assert_eq!(t["messages"][1]["direction"], "out");
    assert_eq!(
        bodies(&thread(&app, &bob).await),
        ["Hi Bob, we launched ✨"]
    );
    // Not another visitor's: Ada's thread has nothing of Bob's.
    assert!(!thread(&app, &ada).await.to_string().contains("Bob"));
}

on_both_backends!(
    push_campaign_reaches_each_browser_once,
    in_app_campaign_shows_in_the_widget
);
