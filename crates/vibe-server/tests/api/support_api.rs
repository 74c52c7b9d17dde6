//! The support API (`POST /api/v1/support/conversations|messages|events`
//! with a project secret key): idempotent on external ids, timers from the
//! reported times, events setting flags, other tenants kept apart, field
//! errors naming `batch[i].field`, and keys other than a live secret key
//! refused.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

const CONV: &str = "/api/v1/support/conversations";
const MSG: &str = "/api/v1/support/messages";
const EV: &str = "/api/v1/support/events";

async fn ok(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = json_of(res).await;
    assert_eq!(got, status, "{body}");
    body
}

async fn conversations(app: &TestApp, owner: &Session, pid: &str) -> Vec<Value> {
    let body = app
        .get_json(owner, &format!("/api/v1/projects/{pid}/conversations"))
        .await;
    body["conversations"].as_array().expect("a list").clone()
}

async fn thread(app: &TestApp, owner: &Session, pid: &str, cid: &str) -> Vec<Value> {
    let body = app
        .get_json(
            owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}/messages"),
        )
        .await;
    body["messages"].as_array().expect("a list").clone()
}

async fn support_api_is_idempotent_on_external_ids(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let sk = app.secret_key(&owner, &p.id, "helpdesk").await;
    let conv = json!({"external_id": "zd-1", "contact": {"email": "Ann@Example.com"},
        "priority": "high", "intent": "billing"});
    let first = ok(
        app.post_bearer(&sk, CONV, conv.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["external_id"], "zd-1");
    assert_eq!(first["channel"], "api");
    assert_eq!(first["priority"], "high");
    assert_eq!(first["intent"], "billing");
    assert_eq!(first["contact_email"], "ann@example.com");
    assert_eq!(first["created"], true);
    let again = ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::OK).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["created"], false);
    // A batch naming it twice more, and a second one with the same contact.
    let batch = json!({"batch": [
        {"external_id": "zd-1", "contact": {"email": "ann@example.com"}},
        {"external_id": "zd-2", "contact": {"email": "ann@example.com"}},
        {"external_id": "zd-2", "contact": {"email": "ann@example.com"}},
    ]});
    let res = ok(app.post_bearer(&sk, CONV, batch).await, StatusCode::OK).await;
    let results = res["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["id"], first["id"]);
    assert_eq!(
        (&results[1]["created"], &results[2]["created"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(results[1]["id"], results[2]["id"]);
    assert_eq!(
        results[1]["site_user_id"], first["site_user_id"],
        "one person per email"
    );
    assert_eq!(conversations(&app, &owner, &p.id).await.len(), 2);

    let msg = json!({"conversation_external_id": "zd-1", "external_id": "m-1",
        "sender": "contact", "body": "Where is my invoice?"});
    let m = ok(
        app.post_bearer(&sk, MSG, msg.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (&m["direction"], &m["delivery_status"], &m["external_id"]),
        (&json!("in"), &json!("delivered"), &json!("m-1"))
    );
    let m2 = ok(app.post_bearer(&sk, MSG, msg).await, StatusCode::OK).await;
    assert_eq!(m2["id"], m["id"]);
    // Message ids are the helpdesk's, unique per channel: the same one in
    // another conversation is a conflict, not a silent duplicate.
    let elsewhere = json!({"conversation_external_id": "zd-2", "external_id": "m-1",
        "sender": "contact", "body": "Where is my invoice?"});
    let res = app.post_bearer(&sk, MSG, elsewhere).await;
    assert_field_error(res, StatusCode::CONFLICT, "conflict", "external_id").await;
    let cid = first["id"].as_str().unwrap();
    assert_eq!(thread(&app, &owner, &p.id, cid).await.len(), 1);
    let c = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}", p.id),
        )
        .await;
    assert_eq!(c["unread_count"], 1, "the retry counted nothing");
    // A bot's answer through the API is `sent`, never queued for Vibe's sender.
    let bot = json!({"conversation_external_id": "zd-1", "external_id": "m-2",
        "sender": "bot", "body": "Here it is."});
    let b = ok(app.post_bearer(&sk, MSG, bot).await, StatusCode::CREATED).await;
    assert_eq!(
        (&b["direction"], &b["delivery_status"]),
        (&json!("out"), &json!("sent"))
    );
    app.stop().await;
}

async fn support_api_timers_follow_reported_times(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let sk = app.secret_key(&owner, &p.id, "helpdesk").await;
    let t0 = app.clock.now_ms() - 10 * 86_400_000;
    let conv = json!({"external_id": "c-1", "contact": {"user_id": "u-42"}, "created_at": t0});
    let c = ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    assert_eq!(
        (&c["created_at"], &c["opened_at"]),
        (&json!(t0), &json!(t0))
    );
    assert_eq!(c["site_user_id"], "uid:u-42");
    let batch = json!({"batch": [
        {"conversation_external_id": "c-1", "external_id": "1", "sender": "contact",
         "body": "Hi", "created_at": t0 + 1_000},
        {"conversation_external_id": "c-1", "external_id": "2", "sender": "system",
         "body": "Routed", "created_at": t0 + 2_000},
        {"conversation_external_id": "c-1", "external_id": "3", "sender": "bot",
         "body": "Hello!", "created_at": t0 + 91_500},
        {"conversation_external_id": "c-1", "external_id": "4", "sender": "agent",
         "body": "Later answer", "created_at": t0 + 500_000},
    ]});
    ok(app.post_bearer(&sk, MSG, batch).await, StatusCode::OK).await;
    let ev = json!({"conversation_external_id": "c-1", "type": "resolved", "at": t0 + 3_600_000});
    let c = ok(app.post_bearer(&sk, EV, ev).await, StatusCode::OK).await;
    assert_eq!(c["first_inbound_at"], t0 + 1_000);
    assert_eq!(c["first_response_at"], t0 + 91_500);
    assert_eq!(
        c["first_response_s"], 90,
        "the system message stops nothing"
    );
    assert_eq!(c["status"], "resolved");
    assert_eq!(c["resolved_at"], t0 + 3_600_000);
    assert_eq!(c["resolution_s"], 3_600);
    // A reopen at a reported time restarts the timer from there.
    let batch = json!({"batch": [
        {"conversation_external_id": "c-1", "type": "reopened", "at": t0 + 7_200_000},
        {"conversation_external_id": "c-1", "type": "resolved", "at": t0 + 7_260_000},
    ]});
    let res = ok(app.post_bearer(&sk, EV, batch).await, StatusCode::OK).await;
    let c = &res["results"][1];
    assert_eq!(
        (&c["opened_at"], &c["resolution_s"]),
        (&json!(t0 + 7_200_000), &json!(60))
    );
    assert_eq!(c["first_response_s"], 90, "set once");
    // Created already resolved (an import of a closed ticket).
    let conv = json!({"external_id": "c-2", "contact": {"phone": "+16505550000"},
        "status": "closed", "created_at": t0});
    let c = ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    assert_eq!(
        (&c["status"], &c["resolution_s"]),
        (&json!("closed"), &json!(0))
    );
    assert_eq!(c["site_user_id"], "uid:tel:+16505550000");
    app.stop().await;
}

async fn support_api_events_set_flags(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let sk = app.secret_key(&owner, &p.id, "bot").await;
    let conv = json!({"external_id": "b-1", "contact": {"user_id": "u-1"}});
    ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    let batch = json!({"batch": [
        {"conversation_external_id": "b-1", "type": "intent", "value": "refund"},
        {"conversation_external_id": "b-1", "type": "handoff"},
        {"conversation_external_id": "b-1", "type": "csat", "value": 4},
        {"conversation_external_id": "b-1", "type": "lead"},
        {"conversation_external_id": "b-1", "type": "converted"},
    ]});
    let res = ok(app.post_bearer(&sk, EV, batch).await, StatusCode::OK).await;
    let c = &res["results"][4];
    assert_eq!(c["intent"], "refund");
    assert_eq!(c["escalated_to_human"], true);
    assert_eq!(c["handled_by_bot"], true);
    assert_eq!(c["csat"], 4);
    assert_eq!(
        (&c["is_lead"], &c["converted"]),
        (&json!(true), &json!(true))
    );
    let conv = json!({"external_id": "b-2", "contact": {"user_id": "u-1"}});
    ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    let ev = json!({"conversation_external_id": "b-2", "type": "bot_resolved"});
    let c = ok(app.post_bearer(&sk, EV, ev).await, StatusCode::OK).await;
    assert_eq!(
        (&c["status"], &c["handled_by_bot"], &c["escalated_to_human"]),
        (&json!("resolved"), &json!(true), &json!(false))
    );
    app.stop().await;
}

async fn support_api_keeps_tenants_apart(backend: Backend) {
    let Some((app, owner, a)) = signed_in(backend).await else {
        return;
    };
    let b = app.create_project(&owner, "Bravo").await;
    let sk_a = app.secret_key(&owner, &a.id, "a").await;
    let sk_b = app.secret_key(&owner, &b.id, "b").await;
    let conv = json!({"external_id": "t-1", "contact": {"user_id": "u-1"}});
    let in_a = ok(
        app.post_bearer(&sk_a, CONV, conv.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let msg = json!({"conversation_external_id": "t-1", "external_id": "m-1",
        "sender": "contact", "body": "A's secret"});
    ok(
        app.post_bearer(&sk_a, MSG, msg.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    // B cannot reach A's conversation by its external id…
    let ev = json!({"conversation_external_id": "t-1", "type": "csat", "value": 1});
    let res = app.post_bearer(&sk_b, EV, ev).await;
    assert_field_error(
        res,
        StatusCode::NOT_FOUND,
        "not_found",
        "conversation_external_id",
    )
    .await;
    let res = app.post_bearer(&sk_b, MSG, msg.clone()).await;
    assert_field_error(
        res,
        StatusCode::NOT_FOUND,
        "not_found",
        "conversation_external_id",
    )
    .await;
    // …and the same external id gives B a conversation of its own.
    let in_b = ok(
        app.post_bearer(&sk_b, CONV, conv).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(in_b["id"], in_a["id"]);
    ok(app.post_bearer(&sk_b, MSG, msg).await, StatusCode::CREATED).await;
    let cid = in_a["id"].as_str().unwrap();
    let c = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{}/conversations/{cid}", a.id),
        )
        .await;
    assert_eq!((&c["csat"], &c["unread_count"]), (&Value::Null, &json!(1)));
    assert_eq!(thread(&app, &owner, &a.id, cid).await.len(), 1);
    assert_eq!(conversations(&app, &owner, &b.id).await.len(), 1);
    app.stop().await;
}

async fn support_api_refuses_other_keys(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let conv = json!({"external_id": "k-1", "contact": {"user_id": "u-1"}});
    for path in [CONV, MSG, EV] {
        let res = app
            .request(Method::POST, path)
            .json(&conv)
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let res = app.post_bearer(&p.write_key, path, conv.clone()).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let res = app.post_bearer("sk_not_a_key", path, conv.clone()).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let token = app.api_token(&owner, "personal").await;
    let res = app.post_bearer(&token, CONV, conv.clone()).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let minted = app.mint_key(&owner, &p.id, "soon revoked").await;
    let sk = string_at(&minted, "secret");
    ok(
        app.post_bearer(&sk, CONV, conv.clone()).await,
        StatusCode::CREATED,
    )
    .await;
    let kid = minted["key"]["id"].as_str().unwrap();
    let res = app
        .delete(&owner, &format!("/api/v1/projects/{}/keys/{kid}", p.id))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.post_bearer(&sk, CONV, conv).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    app.stop().await;
}

async fn support_api_names_the_bad_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let sk = app.secret_key(&owner, &p.id, "helpdesk").await;
    let good = json!({"external_id": "f-1", "contact": {"user_id": "u-1"}});
    let cases = [
        (
            json!({"batch": [good.clone(), {"contact": {"user_id": "u"}}]}),
            "missing_field",
            "batch[1].external_id",
        ),
        (json!({"external_id": "f-2"}), "missing_field", "contact"),
        (
            json!({"external_id": "f-2", "contact": {}}),
            "missing_field",
            "contact",
        ),
        (
            json!({"external_id": "f-2", "contact": {"email": "nope"}}),
            "invalid_field",
            "contact.email",
        ),
        (
            json!({"external_id": "f-2", "contact": {"phone": "12ab"}}),
            "invalid_field",
            "contact.phone",
        ),
        (
            json!({"external_id": "f-2", "contact": {"twitter": "x"}}),
            "invalid_field",
            "contact.twitter",
        ),
        (
            json!({"batch": [good.clone(), good.clone(), {"external_id": "f-3",
            "contact": {"user_id": "u"}, "status": "done"}]}),
            "invalid_field",
            "batch[2].status",
        ),
        (
            json!({"external_id": "f-2", "contact": {"user_id": "u"}, "inbox_id": "nope"}),
            "invalid_field",
            "inbox_id",
        ),
        (
            json!({"external_id": "f-2", "contact": {"user_id": "u"}, "created_at": "yesterday"}),
            "invalid_field",
            "created_at",
        ),
        (
            json!({"external_id": "f-2", "contact": {"user_id": "u"}, "colour": "red"}),
            "invalid_field",
            "colour",
        ),
    ];
    for (body, code, field) in cases {
        let res = app.post_bearer(&sk, CONV, body).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    let res = app
        .post_bearer(
            &sk,
            CONV,
            json!({"external_id": "f-2", "contact": {"anonymous_id": "ghost"}}),
        )
        .await;
    assert_field_error(
        res,
        StatusCode::NOT_FOUND,
        "not_found",
        "contact.anonymous_id",
    )
    .await;
    assert!(
        conversations(&app, &owner, &p.id).await.is_empty(),
        "a refused batch stores nothing"
    );
    ok(app.post_bearer(&sk, CONV, good).await, StatusCode::CREATED).await;
    let msg = |extra: Value| {
        let mut m = json!({"conversation_external_id": "f-1", "external_id": "m",
            "sender": "contact", "body": "hi"});
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let cases = [
        (
            json!({"batch": [msg(json!({})), msg(json!({"sender": "robot"}))]}),
            "invalid_field",
            "batch[1].sender",
        ),
        (
            msg(json!({"direction": "out"})),
            "invalid_field",
            "direction",
        ),
        (msg(json!({"body": ""})), "invalid_field", "body"),
        (
            msg(json!({"external_id": null})),
            "missing_field",
            "external_id",
        ),
    ];
    for (body, code, field) in cases {
        let res = app.post_bearer(&sk, MSG, body).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    let res = app
        .post_bearer(
            &sk,
            MSG,
            json!({"batch": [msg(json!({})), msg(json!({"conversation_external_id": "nope"}))]}),
        )
        .await;
    assert_field_error(
        res,
        StatusCode::NOT_FOUND,
        "not_found",
        "batch[1].conversation_external_id",
    )
    .await;
    let cid = conversations(&app, &owner, &p.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(thread(&app, &owner, &p.id, &cid).await.is_empty());
    let ev = |t: &str, v: Value| json!({"conversation_external_id": "f-1", "type": t, "value": v});
    let cases = [
        (ev("csat", json!(9)), "invalid_field", "value"),
        (ev("csat", Value::Null), "missing_field", "value"),
        (
            json!({"batch": [ev("lead", Value::Null), ev("party", Value::Null)]}),
            "invalid_field",
            "batch[1].type",
        ),
        (
            json!({"conversation_external_id": "f-1", "type": "resolved", "at": 5}),
            "invalid_field",
            "at",
        ),
    ];
    for (body, code, field) in cases {
        let res = app.post_bearer(&sk, EV, body).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    let c = &conversations(&app, &owner, &p.id).await[0];
    assert_eq!(
        (&c["is_lead"], &c["status"]),
        (&json!(false), &json!("open"))
    );
    app.stop().await;
}

async fn business_hours_variants_count_open_hours(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"timezone": "UTC"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let week: Value = ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| (d.to_string(), json!([["09:00", "17:00"]])))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let policy = json!({"first_response_target_s": 3600, "resolution_target_s": 86400,
        "business_hours": week});
    let res = app
        .put(
            &owner,
            &format!("/api/v1/projects/{pid}/sla-policies/medium"),
            policy,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let sk = app.secret_key(&owner, pid, "helpdesk").await;
    // Friday 2026-11-27 16:00 UTC; the answer on Monday 09:30, resolved 10:00.
    let friday = 1_795_795_200_000_i64;
    let monday_930 = friday + (2 * 24 + 17) * 3_600_000 + 1_800_000;
    for (ext, priority) in [("bh-1", "medium"), ("bh-2", "high")] {
        let conv = json!({"external_id": ext, "contact": {"user_id": "u-1"},
            "priority": priority, "created_at": friday});
        ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
        let batch = json!({"batch": [
            {"conversation_external_id": ext, "external_id": format!("{ext}-1"),
             "sender": "contact", "body": "Hi", "created_at": friday},
            {"conversation_external_id": ext, "external_id": format!("{ext}-2"),
             "sender": "agent", "body": "Hello", "created_at": monday_930},
        ]});
        ok(app.post_bearer(&sk, MSG, batch).await, StatusCode::OK).await;
        let ev = json!({"conversation_external_id": ext, "type": "resolved",
            "at": monday_930 + 1_800_000});
        ok(app.post_bearer(&sk, EV, ev).await, StatusCode::OK).await;
    }
    let all = conversations(&app, &owner, pid).await;
    let by = |ext: &str| {
        all.iter()
            .find(|c| c["external_id"] == ext)
            .unwrap()
            .clone()
    };
    let (medium, high) = (by("bh-1"), by("bh-2"));
    assert_eq!(medium["first_response_s"], 235_800);
    assert_eq!(
        medium["first_response_bh_s"],
        3_600 + 1_800,
        "Friday's last hour and Monday's first half hour"
    );
    assert_eq!(medium["resolution_s"], 237_600);
    assert_eq!(medium["resolution_bh_s"], 7_200);
    // No policy for `high`: the variants are the wall-clock values.
    assert_eq!(high["first_response_bh_s"], high["first_response_s"]);
    assert_eq!(high["resolution_bh_s"], 237_600);
    // A later policy change does not rewrite stored values.
    let res = app
        .delete(
            &owner,
            &format!("/api/v1/projects/{pid}/sla-policies/medium"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cid = medium["id"].as_str().unwrap();
    let c = app
        .get_json(
            &owner,
            &format!("/api/v1/projects/{pid}/conversations/{cid}"),
        )
        .await;
    assert_eq!(c["resolution_bh_s"], 7_200);
    app.stop().await;
}

crate::on_both_backends!(
    inbox_bot_rules_reply_and_auto_resolve,
    inbox_bot_away_reply_once_and_queued_on_external,
    dropped_when_the_contact_stops_replying,
    inbox_automation_settings,
    business_hours_variants_count_open_hours,
    support_api_is_idempotent_on_external_ids,
    support_api_timers_follow_reported_times,
    support_api_events_set_flags,
    support_api_keeps_tenants_apart,
    support_api_refuses_other_keys,
    support_api_names_the_bad_field,
);

// ---- Built-in bots (inbox automation) and the maintenance sweep. ----

async fn inbox_with_bot(
    app: &TestApp,
    owner: &Session,
    pid: &str,
    channel: &str,
    bot: Value,
) -> String {
    let inbox = json!({"name": format!("Bot {channel}"), "channel": channel});
    let inbox = created(
        app.post(owner, &format!("/api/v1/projects/{pid}/inboxes"), inbox)
            .await,
    )
    .await;
    let iid = inbox["id"].as_str().unwrap().to_owned();
    let res = app
        .put(
            owner,
            &format!("/api/v1/projects/{pid}/inboxes/{iid}/automation"),
            bot,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    iid
}

async fn conversation(app: &TestApp, owner: &Session, pid: &str, ext: &str) -> Value {
    conversations(app, owner, pid)
        .await
        .into_iter()
        .find(|c| c["external_id"] == ext)
        .expect("the conversation")
}

async fn say(app: &TestApp, sk: &str, ext: &str, id: &str, sender: &str, body: &str) {
    let id = format!("{ext}-{id}");
    let m =
        json!({"conversation_external_id": ext, "external_id": id, "sender": sender, "body": body});
    ok(app.post_bearer(sk, MSG, m).await, StatusCode::CREATED).await;
}

async fn inbox_bot_rules_reply_and_auto_resolve(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let bot = json!({"rules": [
        {"keywords": ["Refund", "money back"], "reply": "Refunds take 5 days.", "intent": "refund",
         "resolve_after_min": 30},
        {"keywords": ["price"], "reply": "See /pricing."},
    ]});
    let iid = inbox_with_bot(&app, &owner, pid, "api", bot).await;
    let sk = app.secret_key(&owner, pid, "helpdesk").await;
    for ext in ["r-1", "r-2"] {
        let conv = json!({"external_id": ext, "contact": {"user_id": ext}, "inbox_id": iid});
        ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    }
    say(&app, &sk, "r-1", "1", "contact", "I want my REFUND please").await;
    let c = conversation(&app, &owner, pid, "r-1").await;
    let cid = c["id"].as_str().unwrap();
    let t = thread(&app, &owner, pid, cid).await;
    assert_eq!(t.len(), 2);
    assert_eq!(
        (&t[0]["sender"], &t[0]["body"], &t[0]["delivery_status"]),
        (
            &json!("bot"),
            &json!("Refunds take 5 days."),
            &json!("sent")
        )
    );
    assert_eq!(c["intent"], "refund");
    let due = c["first_inbound_at"].as_i64().unwrap() + 30 * 60_000;
    assert_eq!(c["auto_resolve_at"], due);
    assert_eq!(c["handled_by_bot"], true);
    // r-2: the contact writes again in time, so it stays open.
    say(&app, &sk, "r-2", "1", "contact", "money back?").await;
    app.clock.advance_ms(10 * 60_000);
    say(&app, &sk, "r-2", "2", "contact", "hello?").await;
    let c2 = conversation(&app, &owner, pid, "r-2").await;
    assert_eq!(c2["auto_resolve_at"], Value::Null);
    // Not due yet, then due.
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(
        conversation(&app, &owner, pid, "r-1").await["status"],
        "open"
    );
    app.clock.advance_ms(21 * 60_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    let c = conversation(&app, &owner, pid, "r-1").await;
    assert_eq!(
        (&c["status"], &c["resolved_at"]),
        (&json!("resolved"), &json!(due))
    );
    assert_eq!(
        (&c["bot_only"], &c["auto_resolve_at"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(
        conversation(&app, &owner, pid, "r-2").await["status"],
        "open"
    );
    // An agent's answer makes a bot-handled conversation escalated, not bot-only.
    say(&app, &sk, "r-2", "3", "agent", "Let me check.").await;
    let ev = json!({"conversation_external_id": "r-2", "type": "resolved"});
    let c2 = ok(app.post_bearer(&sk, EV, ev).await, StatusCode::OK).await;
    assert_eq!(
        (&c2["escalated_to_human"], &c2["bot_only"]),
        (&json!(true), &json!(false))
    );
    app.stop().await;
}

/// The weekday names of every day but today (UTC), each open 09:00–10:00.
fn hours_not_today(now_ms: i64) -> Value {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = ((now_ms.div_euclid(86_400_000) + 3) % 7) as usize;
    DAYS.iter()
        .enumerate()
        .filter(|(i, _)| *i != today)
        .map(|(_, d)| (d.to_string(), json!([["09:00", "10:00"]])))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

async fn inbox_bot_away_reply_once_and_queued_on_external(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"timezone": "UTC"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let policy = json!({"first_response_target_s": 60, "resolution_target_s": 600,
        "business_hours": hours_not_today(app.clock.now_ms())});
    let res = app
        .put(
            &owner,
            &format!("/api/v1/projects/{pid}/sla-policies/medium"),
            policy,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bot = json!({"away_reply": {"enabled": true, "body": "We are closed."},
        "rules": [{"keywords": ["price"], "reply": "See /pricing."}]});
    let iid = inbox_with_bot(&app, &owner, pid, "whatsapp", bot).await;
    let sk = app.secret_key(&owner, pid, "helpdesk").await;
    let conv = json!({"external_id": "w-1", "contact": {"phone": "+16505551234"},
        "channel": "whatsapp", "inbox_id": iid});
    ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    say(&app, &sk, "w-1", "1", "contact", "Hello?").await;
    say(&app, &sk, "w-1", "2", "contact", "Anyone there?").await;
    let c = conversation(&app, &owner, pid, "w-1").await;
    let t = thread(&app, &owner, pid, c["id"].as_str().unwrap()).await;
    let bots: Vec<&Value> = t.iter().filter(|m| m["sender"] == "bot").collect();
    assert_eq!(bots.len(), 1, "once per open period: {t:?}");
    assert_eq!(
        (&bots[0]["body"], &bots[0]["delivery_status"]),
        (&json!("We are closed."), &json!("queued"))
    );
    // A rule still answers out of hours (and before the away reply).
    say(&app, &sk, "w-1", "3", "contact", "what is the price").await;
    let t = thread(&app, &owner, pid, c["id"].as_str().unwrap()).await;
    assert_eq!(t[0]["body"], "See /pricing.");
    // An inbox without settings: no bot.
    let conv = json!({"external_id": "w-2", "contact": {"user_id": "x"}});
    ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
    say(&app, &sk, "w-2", "1", "contact", "price?").await;
    let c = conversation(&app, &owner, pid, "w-2").await;
    assert_eq!(
        thread(&app, &owner, pid, c["id"].as_str().unwrap())
            .await
            .len(),
        1
    );
    app.stop().await;
}

async fn dropped_when_the_contact_stops_replying(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let sk = app.secret_key(&owner, pid, "helpdesk").await;
    for ext in ["d-1", "d-2"] {
        let conv = json!({"external_id": ext, "contact": {"user_id": ext}});
        ok(app.post_bearer(&sk, CONV, conv).await, StatusCode::CREATED).await;
        say(&app, &sk, ext, "1", "contact", "Hi").await;
    }
    say(&app, &sk, "d-1", "2", "bot", "What is your order number?").await;
    app.clock.advance_ms(23 * 3_600_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(
        conversation(&app, &owner, pid, "d-1").await["dropped"],
        false
    );
    app.clock.advance_ms(2 * 3_600_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    let (d1, d2) = (
        conversation(&app, &owner, pid, "d-1").await,
        conversation(&app, &owner, pid, "d-2").await,
    );
    assert_eq!(d1["dropped"], true, "waiting on the contact for a day");
    assert_eq!(d2["dropped"], false, "the contact is the one waiting");
    say(&app, &sk, "d-1", "3", "contact", "Sorry, #123").await;
    assert_eq!(
        conversation(&app, &owner, pid, "d-1").await["dropped"],
        false
    );
    app.stop().await;
}

async fn inbox_automation_settings(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let pid = &p.id;
    let iid = inbox_with_bot(&app, &owner, pid, "email", json!({})).await;
    let path = format!("/api/v1/projects/{pid}/inboxes/{iid}/automation");
    let got = app.get_json(&owner, &path).await;
    assert_eq!(
        got,
        json!({"away_reply": {"enabled": false, "body": ""}, "rules": []})
    );
    let bot = json!({"away_reply": {"enabled": true, "body": "Closed"},
        "rules": [{"keywords": ["Hi"], "reply": "Hello", "intent": null, "resolve_after_min": 5}]});
    let res = app.put(&owner, &path, bot).await;
    assert_eq!(res.status(), StatusCode::OK);
    let got = app.get_json(&owner, &path).await;
    assert_eq!(got["rules"][0]["keywords"], json!(["hi"]));
    assert_eq!(got["rules"][0]["resolve_after_min"], 5);
    let cases = [
        (
            json!({"rules": [{"reply": "x"}]}),
            "missing_field",
            "rules[0].keywords",
        ),
        (
            json!({"rules": [{"keywords": [], "reply": "x"}]}),
            "invalid_field",
            "rules[0].keywords",
        ),
        (
            json!({"rules": [{"keywords": ["a"], "reply": "x", "resolve_after_min": 0}]}),
            "invalid_field",
            "rules[0].resolve_after_min",
        ),
        (
            json!({"away_reply": {"enabled": true}}),
            "missing_field",
            "away_reply.body",
        ),
        (json!({"mood": 1}), "invalid_field", "mood"),
    ];
    for (body, code, field) in cases {
        let res = app.put(&owner, &path, body).await;
        assert_field_error(res, StatusCode::BAD_REQUEST, code, field).await;
    }
    let res = app
        .get(
            &owner,
            &format!("/api/v1/projects/{pid}/inboxes/nope/automation"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let agent = app.as_role(vibe_store::Role::Agent).await;
    assert_eq!(app.get(&agent, &path).await.status(), StatusCode::FORBIDDEN);
    // Another project's inbox under this project's path: 404.
    let other = app.create_project(&owner, "Other").await;
    let res = app
        .get(
            &owner,
            &format!("/api/v1/projects/{}/inboxes/{iid}/automation", other.id),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
