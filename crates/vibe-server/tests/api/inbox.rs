//! The inbox API: conversations started by agents, replies and notes,
//! reads, filters and pages, status timers, agent status, teams and SLA
//! policies; validation naming the field; scoping by role (outside the
//! scope is 404), viewers refused (403), other tenants 404.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::inbox::{DeliveryStatus, Direction, NewMessage, Scope, Sender};
use vibe_store::Role;

use crate::helpers::*;

/// Identified visitors `anon` → `user` (email `user@shop.example`).
async fn people(app: &TestApp, key: &str, who: &[(&str, &str)]) {
    let mut batch = Vec::new();
    for (anon, user) in who {
        let session = format!("s-{anon}");
        batch.push(pageview(anon, &session, "https://shop.example/"));
        let traits =
            json!({"email": format!("{user}@shop.example"), "name": format!("Name {user}")});
        batch.push(identify(anon, &session, user, traits));
    }
    app.collect_ok(key, batch).await;
}

/// What a channel will do in a later slice: the contact writes.
async fn inbound(app: &TestApp, project: &str, cid: &str, id: &str, body: &str, at: i64) {
    let m = NewMessage {
        id: id.into(),
        conversation_id: cid.into(),
        direction: Direction::In,
        sender: Sender::Contact,
        sender_account_id: None,
        body: body.into(),
        private: false,
        attachments: "[]".into(),
        delivery_status: DeliveryStatus::Delivered,
        channel_message_id: None,
        created_at: at,
    };
    let added = app.state.store.add_message(project, &Scope::All, &m).await;
    assert!(added.unwrap().is_some());
}

/// The sorted ids of the conversations `who` lists with query `q`.
async fn listed(app: &TestApp, who: &Session, base: &str, q: &str) -> Vec<String> {
    let body = app
        .get_json(who, &format!("{base}/conversations?{q}"))
        .await;
    ids(&body, "conversations")
}

fn ids(body: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = body[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort_unstable();
    v
}

async fn conversations_replies_reads_and_timers(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana"), ("b1", "bob")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let agent = app.as_role(Role::Agent).await;
    let agent_id = app.account_id(&agent).await;

    // A DM from the profile: assigned to the agent, the first message sent.
    let dm = json!({"message": "Hi Ana, how can we help?"});
    let res = app
        .post(&agent, &format!("{base}/users/a1/conversations"), dm)
        .await;
    let c = created(res).await;
    let cid = string_at(&c, "id");
    assert_eq!(c["site_user_id"], "a1");
    assert_eq!(c["assignee_account_id"], agent_id.as_str());
    assert_eq!(
        (&c["status"], &c["channel"]),
        (&json!("open"), &json!("in_app"))
    );
    assert_eq!(c["is_lead"], false);
    assert_eq!(
        c["first_response_at"],
        Value::Null,
        "no inbound message yet"
    );
    let thread = app
        .get_json(&agent, &format!("{base}/conversations/{cid}/messages"))
        .await;
    assert_eq!(thread["messages"][0]["delivery_status"], "sent");
    assert_eq!(thread["messages"][0]["sender"], "agent");

    // The contact answers; the agent's reply is the first response.
    let t = app.state.clock.now_ms();
    inbound(&app, &p.id, &cid, "in-1", "My refund is late", t + 1000).await;
    inbound(&app, &p.id, &cid, "in-2", "Order 42", t + 2000).await;
    let c = app
        .get_json(&agent, &format!("{base}/conversations/{cid}"))
        .await;
    assert_eq!(c["unread_count"], 2);
    assert_eq!(c["recent_messages"].as_array().unwrap().len(), 3);
    let note = json!({"body": "check the warehouse", "private": true});
    let res = app
        .post(
            &agent,
            &format!("{base}/conversations/{cid}/messages"),
            note,
        )
        .await;
    let note = created(res).await;
    assert_eq!(
        (&note["private"], &note["delivery_status"]),
        (&json!(true), &json!("sent"))
    );
    let c = app
        .get_json(&agent, &format!("{base}/conversations/{cid}"))
        .await;
    assert_eq!(c["first_response_at"], Value::Null, "a note is no response");

    // Reads: up to in-1, then all.
    let res = app
        .post(
            &agent,
            &format!("{base}/conversations/{cid}/messages/in-1/read"),
            json!({}),
        )
        .await;
    assert_eq!(json_of(res).await["unread_count"], 1);
    let res = app
        .post(
            &agent,
            &format!("{base}/conversations/{cid}/messages/in-2/read"),
            json!({}),
        )
        .await;
    assert_eq!(json_of(res).await["unread_count"], 0);
    let res = app
        .post(
            &agent,
            &format!("{base}/conversations/{cid}/messages/nope/read"),
            json!({}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // A WhatsApp conversation: replies wait `queued` for the sender.
    let body = json!({"contact_id": "bob", "channel": "whatsapp", "priority": "high",
        "assignee": "me", "intent": "billing", "is_lead": true});
    let w = created(
        app.post(&agent, &format!("{base}/conversations"), body)
            .await,
    )
    .await;
    let wid = string_at(&w, "id");
    assert_eq!(
        (&w["site_user_id"], &w["priority"]),
        (&json!("b1"), &json!("high"))
    );
    let body =
        json!({"body": "We are on it", "attachments": [{"name": "label.pdf", "size": 1200}]});
    let r = created(
        app.post(
            &agent,
            &format!("{base}/conversations/{wid}/messages"),
            body,
        )
        .await,
    )
    .await;
    assert_eq!(r["delivery_status"], "queued");
    assert_eq!(r["attachments"][0]["name"], "label.pdf");

    // Status and the resolution timer.
    let patch = json!({"status": "resolved", "csat": 5, "converted": true, "escalated": true});
    let res = app
        .patch(&agent, &format!("{base}/conversations/{cid}"), patch)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let c = json_of(res).await;
    assert_eq!((&c["status"], &c["csat"]), (&json!("resolved"), &json!(5)));
    assert_eq!(
        (&c["converted"], &c["escalated_to_human"]),
        (&json!(true), &json!(true))
    );
    assert!(c["resolved_at"].is_i64() && c["resolution_s"].is_i64());

    // The list: filters, search, pages.
    let list = |q: String| {
        let (app, agent, base) = (&app, &agent, &base);
        async move {
            app.get_json(agent, &format!("{base}/conversations?{q}"))
                .await
        }
    };
    assert_eq!(listed(&app, &agent, &base, "").await.len(), 2);
    assert_eq!(
        listed(&app, &agent, &base, "status=resolved").await,
        [cid.as_str()]
    );
    assert_eq!(
        listed(&app, &agent, &base, "channel=whatsapp&priority=high").await,
        [wid.as_str()]
    );
    assert_eq!(listed(&app, &agent, &base, "assignee=me").await.len(), 2);
    assert!(listed(&app, &agent, &base, "assignee=none")
        .await
        .is_empty());
    assert_eq!(
        listed(&app, &agent, &base, "q=REFUND").await,
        [cid.as_str()]
    );
    assert_eq!(
        listed(&app, &agent, &base, "q=bob%40shop").await,
        [wid.as_str()]
    );
    let first = list("limit=1".into()).await;
    assert_eq!(first["conversations"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().expect("more").to_owned();
    let second = list(format!("limit=1&cursor={cursor}")).await;
    assert_eq!(second["conversations"].as_array().unwrap().len(), 1);
    assert_ne!(
        first["conversations"][0]["id"],
        second["conversations"][0]["id"]
    );
    assert_eq!(second["next_cursor"], Value::Null);
    // A contact's own list.
    let bob = app
        .get_json(&agent, &format!("{base}/users/bob/conversations"))
        .await;
    assert_eq!(ids(&bob, "conversations"), [wid.as_str()]);

    // Thread pages, newest first.
    let page = app
        .get_json(
            &agent,
            &format!("{base}/conversations/{cid}/messages?limit=2"),
        )
        .await;
    let next = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = app
        .get_json(
            &agent,
            &format!("{base}/conversations/{cid}/messages?cursor={next}"),
        )
        .await;
    assert_eq!(
        page["messages"].as_array().unwrap().len() + rest["messages"].as_array().unwrap().len(),
        4
    );

    // An external id makes creation idempotent (200, the same conversation).
    let body = json!({"contact_id": "ana", "external_id": "zd-1", "assignee": null});
    let one = created(
        app.post(&owner, &format!("{base}/conversations"), body.clone())
            .await,
    )
    .await;
    let res = app
        .post(&owner, &format!("{base}/conversations"), body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["id"], one["id"]);
}

async fn validation_names_the_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let viewer = app.as_role(Role::Viewer).await;
    let viewer_id = app.account_id(&viewer).await;
    let c = created(
        app.post(
            &owner,
            &format!("{base}/users/ana/conversations"),
            json!({}),
        )
        .await,
    )
    .await;
    let cid = string_at(&c, "id");
    let conv = format!("{base}/conversations/{cid}");

    let bad_patches = [
        (json!({"status": "done"}), "status"),
        (json!({"priority": "vip"}), "priority"),
        (json!({"csat": 6}), "csat"),
        (json!({"csat": "5"}), "csat"),
        (json!({"assignee": "nobody-such"}), "assignee"),
        (json!({"assignee": viewer_id}), "assignee"),
        (json!({"team_id": "no-team"}), "team_id"),
        (json!({"intent": ""}), "intent"),
        (json!({"is_lead": "yes"}), "is_lead"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (body, field) in bad_patches {
        assert_invalid(app.patch(&owner, &conv, body).await, field).await;
    }
    let msgs = format!("{conv}/messages");
    assert_field_error(
        app.post(&owner, &msgs, json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "body",
    )
    .await;
    assert_invalid(app.post(&owner, &msgs, json!({"body": "  "})).await, "body").await;
    assert_invalid(
        app.post(&owner, &msgs, json!({"body": "x\u{0}y"})).await,
        "body",
    )
    .await;
    assert_invalid(
        app.post(&owner, &msgs, json!({"body": "x", "private": 1}))
            .await,
        "private",
    )
    .await;
    assert_invalid(
        app.post(&owner, &msgs, json!({"body": "x", "attachments": [1]}))
            .await,
        "attachments[0]",
    )
    .await;
    let long = "x".repeat(10_001);
    assert_invalid(app.post(&owner, &msgs, json!({"body": long})).await, "body").await;

    let list = format!("{base}/conversations");
    assert_invalid(
        app.get(&owner, &format!("{list}?status=done")).await,
        "status",
    )
    .await;
    assert_invalid(
        app.get(&owner, &format!("{list}?channel=fax")).await,
        "channel",
    )
    .await;
    assert_invalid(
        app.get(&owner, &format!("{list}?cursor=nonsense")).await,
        "cursor",
    )
    .await;
    assert_invalid(app.get(&owner, &format!("{list}?limit=0")).await, "limit").await;
    assert_field_error(
        app.post(&owner, &list, json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "contact_id",
    )
    .await;
    assert_field_error(
        app.post(&owner, &list, json!({"contact_id": "ghost"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
        "contact_id",
    )
    .await;
    // A known external id outside the caller's scope: 409, nothing of it shown.
    let body = json!({"contact_id": "ana", "external_id": "ext-owned", "message": "owner-only"});
    created(app.post(&owner, &list, body.clone()).await).await;
    let agent = app.as_role(Role::Agent).await;
    let res = app.post(&agent, &list, body).await;
    assert_field_error(res, StatusCode::CONFLICT, "conflict", "external_id").await;
    assert_invalid(
        app.post(
            &owner,
            &list,
            json!({"contact_id": "ana", "channel": "fax"}),
        )
        .await,
        "channel",
    )
    .await;
    assert_invalid(
        app.post(
            &owner,
            &list,
            json!({"contact_id": "ana", "inbox_id": "nope"}),
        )
        .await,
        "inbox_id",
    )
    .await;

    let status = format!("{base}/agents/me/status");
    assert_invalid(
        app.put(&owner, &status, json!({"status": "busy"})).await,
        "status",
    )
    .await;
    assert_field_error(
        app.put(&owner, &status, json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "status",
    )
    .await;

    let sla = format!("{base}/sla-policies/urgent");
    assert_invalid(
        app.put(
            &owner,
            &sla,
            json!({"first_response_target_s": 0, "resolution_target_s": 60}),
        )
        .await,
        "first_response_target_s",
    )
    .await;
    assert_field_error(
        app.put(&owner, &sla, json!({"first_response_target_s": 60}))
            .await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "resolution_target_s",
    )
    .await;
    let hours = json!({"first_response_target_s": 60, "resolution_target_s": 600,
        "business_hours": {"mon": [["17:00", "09:00"]]}});
    assert_invalid(app.put(&owner, &sla, hours).await, "business_hours.mon[0]").await;
    let hours = json!({"first_response_target_s": 60, "resolution_target_s": 600,
        "business_hours": {"someday": []}});
    assert_invalid(app.put(&owner, &sla, hours).await, "business_hours.someday").await;
    let next = json!({"first_response_target_s": 60, "resolution_target_s": 600,
        "next_response_target_s": 0});
    assert_invalid(app.put(&owner, &sla, next).await, "next_response_target_s").await;
    let next = json!({"first_response_target_s": 60, "resolution_target_s": 600,
        "next_response_target_s": 120});
    let body = json_of(app.put(&owner, &sla, next).await).await;
    assert_eq!(body["next_response_target_s"], 120);
    let none = json!({"first_response_target_s": 60, "resolution_target_s": 600});
    let body = json_of(app.put(&owner, &sla, none).await).await;
    assert!(body["next_response_target_s"].is_null(), "{body}");
    let res = app
        .put(&owner, &format!("{base}/sla-policies/vip"), json!({}))
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    assert_invalid(
        app.post(&owner, &format!("{base}/teams"), json!({"name": ""}))
            .await,
        "name",
    )
    .await;
    let t = created(
        app.post(&owner, &format!("{base}/teams"), json!({"name": "Sales"}))
            .await,
    )
    .await;
    let res = app
        .post(&owner, &format!("{base}/teams"), json!({"name": "Sales"}))
        .await;
    assert_field_error(res, StatusCode::CONFLICT, "conflict", "name").await;
    let tid = string_at(&t, "id");
    let res = app
        .put(
            &owner,
            &format!("{base}/teams/{tid}/members/not-a-member"),
            json!({}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn scoping_by_role(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let agent = app.as_role(Role::Agent).await;
    let peer = app.create_user("peer@example.com", Role::Agent).await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let viewer = app.as_role(Role::Viewer).await;
    let admin = app.as_role(Role::Admin).await;
    let (agent_id, peer_id, sup_id) = (
        app.account_id(&agent).await,
        app.account_id(&peer).await,
        app.account_id(&supervisor).await,
    );

    // Teams: the supervisor and the peer are in Sales; the agent in none.
    let t = created(
        app.post(&admin, &format!("{base}/teams"), json!({"name": "Sales"}))
            .await,
    )
    .await;
    let tid = string_at(&t, "id");
    for who in [&peer_id, &sup_id] {
        let res = app
            .put(
                &admin,
                &format!("{base}/teams/{tid}/members/{who}"),
                json!({}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    let new = |assignee: Value, team: Value| json!({"contact_id": "ana", "assignee": assignee, "team_id": team});
    let make = |body: Value| async {
        let res = app
            .post(&owner, &format!("{base}/conversations"), body)
            .await;
        string_at(&created(res).await, "id")
    };
    let mine = make(new(json!(agent_id), Value::Null)).await;
    let peers = make(new(json!(peer_id), json!(tid))).await;
    let sales_queue = make(new(Value::Null, json!(tid))).await;
    let shared = make(new(Value::Null, Value::Null)).await;
    let peers_untagged = make(new(json!(peer_id), Value::Null)).await;

    let sorted = |mut v: Vec<String>| {
        v.sort_unstable();
        v
    };
    let list = |who| listed(&app, who, &base, "");
    assert_eq!(
        list(&agent).await,
        sorted(vec![mine.clone(), shared.clone()])
    );
    assert_eq!(
        list(&peer).await,
        sorted(vec![
            peers.clone(),
            sales_queue.clone(),
            shared.clone(),
            peers_untagged.clone()
        ])
    );
    assert_eq!(
        list(&supervisor).await,
        sorted(vec![
            peers.clone(),
            sales_queue.clone(),
            shared.clone(),
            peers_untagged.clone()
        ])
    );
    assert_eq!(list(&admin).await.len(), 5);
    assert_eq!(list(&owner).await.len(), 5);

    // Outside the scope: 404 on every conversation route, nothing changes.
    let outside = format!("{base}/conversations/{peers}");
    inbound(
        &app,
        &p.id,
        &peers,
        "in-peer",
        "private matter",
        app.state.clock.now_ms(),
    )
    .await;
    let calls = vec![
        (Method::GET, outside.clone(), None),
        (
            Method::PATCH,
            outside.clone(),
            Some(json!({"status": "resolved"})),
        ),
        (Method::GET, format!("{outside}/messages"), None),
        (
            Method::POST,
            format!("{outside}/messages"),
            Some(json!({"body": "sneaky"})),
        ),
        (
            Method::POST,
            format!("{outside}/messages/in-peer/read"),
            Some(json!({})),
        ),
    ];
    assert_refused(&app, &agent, (StatusCode::NOT_FOUND, "not_found"), calls).await;
    let c = app.get_json(&peer, &outside).await;
    assert_eq!(
        (&c["status"], &c["unread_count"]),
        (&json!("open"), &json!(1))
    );
    // The supervisor acts on the team's conversations.
    let res = app
        .patch(&supervisor, &outside, json!({"priority": "urgent"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Viewers: 403 on every conversation route, even their own project's.
    let conv = format!("{base}/conversations/{shared}");
    let refused = vec![
        (Method::GET, format!("{base}/conversations"), None),
        (
            Method::POST,
            format!("{base}/conversations"),
            Some(json!({"contact_id": "ana"})),
        ),
        (Method::GET, conv.clone(), None),
        (
            Method::PATCH,
            conv.clone(),
            Some(json!({"priority": "low"})),
        ),
        (Method::GET, format!("{conv}/messages"), None),
        (
            Method::POST,
            format!("{conv}/messages"),
            Some(json!({"body": "x"})),
        ),
        (
            Method::POST,
            format!("{conv}/messages/x/read"),
            Some(json!({})),
        ),
        (Method::GET, format!("{base}/users/ana/conversations"), None),
        (
            Method::POST,
            format!("{base}/users/ana/conversations"),
            Some(json!({})),
        ),
        (Method::GET, format!("{base}/agents"), None),
        (
            Method::PUT,
            format!("{base}/agents/me/status"),
            Some(json!({"status": "online"})),
        ),
        (Method::GET, format!("{base}/teams"), None),
        (Method::GET, format!("{base}/inboxes"), None),
        (Method::GET, format!("{base}/sla-policies"), None),
    ];
    assert_refused(&app, &viewer, (StatusCode::FORBIDDEN, "forbidden"), refused).await;

    // Agents and supervisors do not manage teams or SLA policies.
    let admin_only = vec![
        (
            Method::POST,
            format!("{base}/teams"),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::PATCH,
            format!("{base}/teams/{tid}"),
            Some(json!({"name": "Renamed"})),
        ),
        (Method::DELETE, format!("{base}/teams/{tid}"), None),
        (
            Method::PUT,
            format!("{base}/teams/{tid}/members/{agent_id}"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("{base}/teams/{tid}/members/{peer_id}"),
            None,
        ),
        (
            Method::PUT,
            format!("{base}/sla-policies/high"),
            Some(json!({"first_response_target_s": 1, "resolution_target_s": 2})),
        ),
        (Method::DELETE, format!("{base}/sla-policies/high"), None),
        (
            Method::POST,
            format!("{base}/inboxes"),
            Some(json!({"name": "x", "channel": "sms"})),
        ),
    ];
    for who in [&agent, &supervisor] {
        assert_refused(
            &app,
            who,
            (StatusCode::FORBIDDEN, "forbidden"),
            admin_only.clone(),
        )
        .await;
    }
    let teams = app.get_json(&agent, &format!("{base}/teams")).await;
    assert_eq!(teams["teams"][0]["name"], "Sales");
    assert_eq!(teams["teams"][0]["members"].as_array().unwrap().len(), 2);
}

async fn agents_teams_and_sla(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let agent = app.as_role(Role::Agent).await;
    let agent_id = app.account_id(&agent).await;
    // `supervisor` is a role the members API grants.
    let sup = app.create_user("sup@example.com", Role::Viewer).await;
    let sup_id = app.account_id(&sup).await;
    let body = json!({"role": "supervisor"});
    let res = app
        .patch(&owner, &format!("{base}/members/{sup_id}"), body)
        .await;
    assert_eq!(json_of(res).await["role"], "supervisor");

    let status = format!("{base}/agents/me/status");
    let on = json_of(app.put(&agent, &status, json!({"status": "online"})).await).await;
    assert_eq!(
        (&on["status"], &on["ended_at"]),
        (&json!("online"), &Value::Null)
    );
    let again = json_of(app.put(&agent, &status, json!({"status": "online"})).await).await;
    assert_eq!(again["id"], on["id"], "the same status logs nothing");
    let away = json_of(app.put(&agent, &status, json!({"status": "away"})).await).await;
    assert_ne!(away["id"], on["id"]);

    let t = created(
        app.post(&owner, &format!("{base}/teams"), json!({"name": "Support"}))
            .await,
    )
    .await;
    let tid = string_at(&t, "id");
    let res = app
        .put(
            &owner,
            &format!("{base}/teams/{tid}/members/{agent_id}"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let agents = app.get_json(&agent, &format!("{base}/agents")).await;
    let list = agents["agents"].as_array().unwrap();
    assert_eq!(list.len(), 2, "agents and supervisors only: {agents}");
    let me = list
        .iter()
        .find(|a| a["account_id"] == agent_id.as_str())
        .unwrap();
    assert_eq!(
        (&me["status"], &me["teams"]),
        (&json!("away"), &json!([tid]))
    );
    let sup = list.iter().find(|a| a["role"] == "supervisor").unwrap();
    assert_eq!(sup["status"], "offline");

    // An inbox of the team: its conversations take the team.
    let body = json!({"name": "Care WhatsApp", "channel": "whatsapp", "team_id": tid});
    let inbox = created(app.post(&owner, &format!("{base}/inboxes"), body).await).await;
    let iid = string_at(&inbox, "id");
    assert_invalid(
        app.post(
            &owner,
            &format!("{base}/inboxes"),
            json!({"name": "x", "channel": "fax"}),
        )
        .await,
        "channel",
    )
    .await;
    assert_invalid(
        app.post(
            &owner,
            &format!("{base}/inboxes"),
            json!({"name": "x", "channel": "sms", "team_id": "nope"}),
        )
        .await,
        "team_id",
    )
    .await;
    let listed = app.get_json(&agent, &format!("{base}/inboxes")).await;
    assert_eq!(listed["inboxes"][0]["id"], iid.as_str());
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let body =
        json!({"contact_id": "ana", "inbox_id": iid, "assignee": null, "channel": "whatsapp"});
    let c = created(
        app.post(&owner, &format!("{base}/conversations"), body)
            .await,
    )
    .await;
    assert_eq!((&c["team_id"], &c["inbox_id"]), (&json!(tid), &json!(iid)));
    // The agent is in the team: the unassigned conversation is in their queue.
    let cid = string_at(&c, "id");
    let res = app
        .get(&agent, &format!("{base}/conversations/{cid}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let renamed = json_of(
        app.patch(
            &owner,
            &format!("{base}/teams/{tid}"),
            json!({"name": "Care"}),
        )
        .await,
    )
    .await;
    assert_eq!(renamed["name"], "Care");
    let res = app
        .delete(&owner, &format!("{base}/teams/{tid}/members/{agent_id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .delete(&owner, &format!("{base}/teams/{tid}/members/{agent_id}"))
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.delete(&owner, &format!("{base}/teams/{tid}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&owner, &format!("{base}/teams/{tid}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let body = json!({"first_response_target_s": 300, "resolution_target_s": 86400,
        "business_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:30"]], "sat": []}});
    let put = json_of(
        app.put(&owner, &format!("{base}/sla-policies/urgent"), body)
            .await,
    )
    .await;
    assert_eq!(put["business_hours"]["mon"][1][1], "17:30");
    let body = json!({"first_response_target_s": 3600, "resolution_target_s": 604800});
    app.put(&owner, &format!("{base}/sla-policies/low"), body)
        .await;
    let list = app.get_json(&agent, &format!("{base}/sla-policies")).await;
    let prios: Vec<&str> = list["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["priority"].as_str().unwrap())
        .collect();
    assert_eq!(prios, ["low", "urgent"]);
    assert_eq!(
        app.delete(&owner, &format!("{base}/sla-policies/low"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.delete(&owner, &format!("{base}/sla-policies/low"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

async fn other_tenants_see_nothing(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let b = app.create_project(&owner, "Bravo").await;
    people(&app, &b.write_key, &[("b-anon", "bravo-person")]).await;
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let bravo = format!("/api/v1/projects/{}", b.id);
    let alpha = format!("/api/v1/projects/{}", p.id);
    let c = created(
        app.post(
            &owner,
            &format!("{bravo}/users/bravo-person/conversations"),
            json!({"message": "bravo-secret-body"}),
        )
        .await,
    )
    .await;
    let cid = string_at(&c, "id");
    let thread = app
        .get_json(&owner, &format!("{bravo}/conversations/{cid}/messages"))
        .await;
    let mid = thread["messages"][0]["id"].as_str().unwrap().to_owned();
    let t = created(
        app.post(
            &owner,
            &format!("{bravo}/teams"),
            json!({"name": "bravo-team"}),
        )
        .await,
    )
    .await;
    let tid = string_at(&t, "id");
    let body = json!({"first_response_target_s": 1, "resolution_target_s": 2});
    app.put(&owner, &format!("{bravo}/sla-policies/high"), body)
        .await;
    let owner_id = app.account_id(&owner).await;

    // An owner of the default project only.
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let conv = format!("{bravo}/conversations/{cid}");
    let calls = vec![
        (Method::GET, format!("{bravo}/conversations"), None),
        (
            Method::POST,
            format!("{bravo}/conversations"),
            Some(json!({"contact_id": "bravo-person"})),
        ),
        (Method::GET, conv.clone(), None),
        (
            Method::PATCH,
            conv.clone(),
            Some(json!({"status": "closed"})),
        ),
        (Method::GET, format!("{conv}/messages"), None),
        (
            Method::POST,
            format!("{conv}/messages"),
            Some(json!({"body": "x"})),
        ),
        (
            Method::POST,
            format!("{conv}/messages/{mid}/read"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("{bravo}/users/bravo-person/conversations"),
            None,
        ),
        (
            Method::POST,
            format!("{bravo}/users/bravo-person/conversations"),
            Some(json!({})),
        ),
        (Method::GET, format!("{bravo}/agents"), None),
        (
            Method::PUT,
            format!("{bravo}/agents/me/status"),
            Some(json!({"status": "online"})),
        ),
        (Method::GET, format!("{bravo}/teams"), None),
        (
            Method::POST,
            format!("{bravo}/teams"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::PATCH,
            format!("{bravo}/teams/{tid}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("{bravo}/teams/{tid}"), None),
        (
            Method::PUT,
            format!("{bravo}/teams/{tid}/members/{owner_id}"),
            Some(json!({})),
        ),
        (
            Method::DELETE,
            format!("{bravo}/teams/{tid}/members/{owner_id}"),
            None,
        ),
        (Method::GET, format!("{bravo}/sla-policies"), None),
        (
            Method::PUT,
            format!("{bravo}/sla-policies/high"),
            Some(json!({"first_response_target_s": 9, "resolution_target_s": 9})),
        ),
        (Method::DELETE, format!("{bravo}/sla-policies/high"), None),
    ];
    for (method, path, body) in calls {
        let res = app.call(&outsider, method.clone(), &path, body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let text = res.text().await.unwrap();
        for leak in ["bravo-secret-body", "bravo-team", "bravo-person", "Bravo"] {
            assert!(
                !text.contains(leak),
                "{method} {path} leaked {leak}: {text}"
            );
        }
    }
    // B's ids through A's project: nothing there.
    let agent = app.as_role(Role::Agent).await;
    for path in [
        format!("{alpha}/conversations/{cid}"),
        format!("{alpha}/conversations/{cid}/messages"),
    ] {
        assert_error(
            app.get(&owner, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_error(
            app.get(&agent, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    let res = app
        .patch(
            &owner,
            &format!("{alpha}/teams/{tid}"),
            json!({"name": "stolen"}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(app
        .get_json(&owner, &format!("{alpha}/conversations"))
        .await["conversations"]
        .as_array()
        .unwrap()
        .is_empty());
    // B's conversation is untouched.
    let c = app.get_json(&owner, &conv).await;
    assert_eq!(c["status"], "open");
}

/// The Support heatmap's drill-down: conversations created on a local day
/// of week and hour of the project's zone (Europe/Stockholm) within a
/// range, across next year's spring change (Monday 09:00 is 08:00 UTC the
/// week before it, 07:00 UTC the week after) and its autumn change (the
/// repeated Sunday 02:00 hour holds both 02:30s); every heatmap cell lists
/// exactly its conversations; bad values are 400 naming the field.
async fn list_filters_by_local_creation_day_and_hour(backend: Backend) {
    use jiff::civil::Date;
    use jiff::ToSpan;
    let Some((app, mut owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}", p.id),
            json!({"timezone": "Europe/Stockholm"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let tz = jiff::tz::TimeZone::get("Europe/Stockholm").unwrap();
    let year = jiff::Timestamp::from_millisecond(app.clock.now_ms())
        .unwrap()
        .to_zoned_datetime(tz.clone())
        .year()
        + 1;
    let last_sunday = |month: i8, last: i8| {
        let d = jiff::civil::date(year, month, last);
        d - i64::from(d.weekday().to_sunday_zero_offset()).days()
    };
    let (spring, autumn) = (last_sunday(3, 31), last_sunday(10, 31));
    let local = |d: Date, h: i8, m: i8| {
        d.at(h, m, 0, 0)
            .to_zoned_datetime(tz.clone())
            .unwrap()
            .timestamp()
            .as_millisecond()
    };
    let day = |d: Date, n: i64| d + n.days();
    // In creation order; `true` = Monday 09:00–10:00 of the range.
    let autumn_0130 = local(autumn, 1, 30);
    let when: Vec<(i64, bool)> = vec![
        (local(day(spring, -13), 9, 30), false), // the Monday before the range
        (local(day(spring, -6), 8, 59), false),
        (local(day(spring, -6), 9, 30), true),  // 08:30 UTC
        (local(day(spring, -5), 9, 30), false), // a Tuesday
        (local(spring, 1, 30), false),
        (local(day(spring, 1), 9, 15), true),   // 07:15 UTC
        (local(day(spring, 1), 10, 15), false), // 08:15 UTC: 09:15 the week before
        (local(day(spring, 8), 9, 30), false),  // the Monday after the range
        (autumn_0130 + 3_600_000, false),       // 02:30 summer time
        (autumn_0130 + 7_200_000, false),       // 02:30 winter time
        (autumn_0130 + 10_800_000, false),      // 03:30
    ];
    assert_eq!(when[2].0 % 86_400_000, 8 * 3_600_000 + 30 * 60_000);
    assert_eq!(when[5].0 % 86_400_000, 7 * 3_600_000 + 15 * 60_000);
    let mut ids_at: Vec<(String, i64)> = Vec::new();
    for (at, _) in &when {
        if at - app.clock.now_ms() > 86_400_000 {
            // Months ahead: the sign-in session (30 days) would have expired.
            app.clock.advance_ms(at - 60_000 - app.clock.now_ms());
            owner = app.login_owner().await;
        }
        app.clock.advance_ms(at - app.clock.now_ms());
        let res = app
            .post(
                &owner,
                &format!("{base}/conversations"),
                json!({"contact_id": "a1"}),
            )
            .await;
        ids_at.push((string_at(&created(res).await, "id"), *at));
    }
    let expect = |pick: &dyn Fn(usize) -> bool| {
        let mut v: Vec<String> = (0..when.len())
            .filter(|i| pick(*i))
            .map(|i| ids_at[i].0.clone())
            .collect();
        v.sort_unstable();
        v
    };
    let (from, to) = (day(spring, -6), day(spring, 7));
    let range = format!("created_from={from}&created_to={to}");
    assert_eq!(
        listed(
            &app,
            &owner,
            &base,
            &format!("{range}&created_dow=1&created_hour=9")
        )
        .await,
        expect(&|i| when[i].1)
    );
    // The skipped spring hour holds nothing; a weekday alone is whole days.
    assert!(listed(
        &app,
        &owner,
        &base,
        &format!("{range}&created_dow=0&created_hour=2")
    )
    .await
    .is_empty());
    assert_eq!(
        listed(&app, &owner, &base, &format!("{range}&created_dow=0")).await,
        expect(&|i| i == 4)
    );
    // The repeated autumn hour: both 02:30s, not 03:30.
    let week = format!("created_from={}&created_to={autumn}", day(autumn, -6));
    assert_eq!(
        listed(
            &app,
            &owner,
            &base,
            &format!("{week}&created_dow=0&created_hour=2")
        )
        .await,
        expect(&|i| i == 8 || i == 9)
    );
    // Instants in ms: `created_to` excluded.
    let (a, b) = (ids_at[2].1, ids_at[5].1);
    assert_eq!(
        listed(
            &app,
            &owner,
            &base,
            &format!("created_from={a}&created_to={b}")
        )
        .await,
        expect(&|i| (2..5).contains(&i))
    );
    assert_eq!(
        listed(
            &app,
            &owner,
            &base,
            &format!("created_from={b}&status=open")
        )
        .await,
        expect(&|i| i >= 5)
    );

    // Every cell of the Support heatmap over the range lists its count.
    let load = app
        .get_json(
            &owner,
            &format!("{base}/support/customer-load?start_date={from}&end_date={to}"),
        )
        .await;
    let mut cells = 0;
    for cell in load["heatmap"].as_array().unwrap() {
        let n = cell["count"].as_i64().unwrap();
        let (d, h) = (&cell["day_of_week"], &cell["hour"]);
        let q = format!("{range}&created_dow={d}&created_hour={h}");
        assert_eq!(
            listed(&app, &owner, &base, &q).await.len() as i64,
            n,
            "cell {d}:{h}"
        );
        cells += i64::from(n > 0);
    }
    // Monday 08, 09 (two) and 10, Tuesday 09, Sunday 01.
    assert_eq!(cells, 5, "{load}");

    // Bad values name their field.
    for (q, code, field) in [
        ("created_dow=7&{range}", "invalid_field", "created_dow"),
        ("created_hour=9am&{range}", "invalid_field", "created_hour"),
        ("created_from=monday", "invalid_field", "created_from"),
        ("created_to=2027-13-01", "invalid_field", "created_to"),
        ("created_from=9&created_to=9", "invalid_field", "created_to"),
        (
            "created_dow=1&created_to=9",
            "missing_field",
            "created_from",
        ),
        (
            "created_hour=1&created_from=2020-01-01&created_to=2021-12-31",
            "invalid_field",
            "created_to",
        ),
    ] {
        let q = q.replace("{range}", &range);
        let res = app.get(&owner, &format!("{base}/conversations?{q}")).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    // The role's scope still applies (an agent holds none of these);
    // viewers are refused, other tenants see nothing.
    let cell = format!("{range}&created_dow=1&created_hour=9");
    let agent = app.as_role(Role::Agent).await;
    assert!(listed(&app, &agent, &base, &cell).await.is_empty());
    let viewer = app.as_role(Role::Viewer).await;
    let res = app
        .get(&viewer, &format!("{base}/conversations?{cell}"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Every new account joins the default project only: no member of Bravo.
    let bravo = app.create_project(&owner, "Bravo").await;
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let theirs = format!("/api/v1/projects/{}/conversations?{cell}", bravo.id);
    let res = app.get(&outsider, &theirs).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(app.get_json(&owner, &theirs).await["conversations"]
        .as_array()
        .unwrap()
        .is_empty());
}

crate::on_both_backends!(
    list_filters_by_local_creation_day_and_hour,
    conversations_replies_reads_and_timers,
    validation_names_the_field,
    scoping_by_role,
    agents_teams_and_sla,
    other_tenants_see_nothing,
);
