//! Support analytics (issue 13): a hand-made support history written through
//! the real inbox API (conversations, agent replies, assignments, resolve,
//! reopen, status changes) and the store where a channel would write
//! (contact messages, a bot's answer, WhatsApp delivery statuses), then each
//! section's figures exactly, against the previous day; filters; each role's
//! scope (agents their own, supervisors their team, others' names absent);
//! viewers 403, non-members 404, agents 403 on business impact and exports;
//! settings; both CSV exports with a formula-safe cell.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::inbox::{DeliveryStatus, Direction, NewMessage, Scope, Sender};
use vibe_store::Role;

use crate::helpers::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// Real time runs on under the test clock (a few ms per request): what ends
/// a timer happens half a second after its nominal time, what starts one
/// on it, so whole-second durations come out exactly as written.
const END: i64 = 500;

/// The sections and exports, by least role.
const SECTIONS: [&str; 6] = [
    "kpi",
    "conversation-effectiveness",
    "whatsapp-performance",
    "customer-load",
    "agent-productivity",
    "automation-impact",
];
const SUPERVISOR_ONLY: [&str; 10] = [
    "business-impact",
    "settings",
    "export/kpi.csv",
    "export/conversation-effectiveness.csv",
    "export/whatsapp-performance.csv",
    "export/customer-load.csv",
    "export/agent-productivity.csv",
    "export/automation-impact.csv",
    "export/business-impact.csv",
    "export/conversations.csv",
];

struct World {
    app: TestApp,
    owner: Session,
    project: String,
    base: String,
    agent: Session,
    agent_id: String,
    other: Session,
    other_id: String,
    supervisor: Session,
    team: String,
    /// 00:00 UTC of "today" (the project's time zone is UTC).
    today: i64,
    c1: String,
    c2: String,
    c4: String,
    failed_message: String,
}

impl World {
    /// Moves the test clock forward to `at`.
    fn clock_to(&self, at: i64) {
        let now = self.app.clock.now_ms();
        assert!(at >= now, "the history goes forward");
        self.app.clock.advance_ms(at - now);
    }

    async fn get(&self, who: &Session, path: &str) -> Value {
        let res = self
            .app
            .get(who, &format!("{}/support/{path}", self.base))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        json_of(res).await
    }

    async fn start(&self, body: Value) -> String {
        let res = self
            .app
            .post(&self.owner, &format!("{}/conversations", self.base), body)
            .await;
        string_at(&created(res).await, "id")
    }

    async fn patch(&self, cid: &str, body: Value) {
        let res = self
            .app
            .patch(
                &self.owner,
                &format!("{}/conversations/{cid}", self.base),
                body,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    async fn reply(&self, who: &Session, cid: &str) {
        let res = self
            .app
            .post(
                who,
                &format!("{}/conversations/{cid}/messages", self.base),
                json!({"body": "on it"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }

    /// What a channel does: a message of `sender` stored now.
    async fn channel_says(&self, cid: &str, sender: Sender, account: Option<&str>) -> String {
        let id = uuid();
        let m = NewMessage {
            id: id.clone(),
            conversation_id: cid.into(),
            direction: if sender == Sender::Contact {
                Direction::In
            } else {
                Direction::Out
            },
            sender,
            sender_account_id: account.map(str::to_owned),
            body: "hello".into(),
            private: false,
            attachments: "[]".into(),
            delivery_status: if sender == Sender::Contact {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Sent
            },
            channel_message_id: None,
            created_at: self.app.clock.now_ms(),
        };
        let added = self
            .app
            .state
            .store
            .add_message(&self.project, &Scope::All, &m)
            .await;
        assert!(added.unwrap().is_some());
        id
    }

    async fn status(&self, message_id: &str, status: DeliveryStatus, reason: Option<&str>) {
        let now = self.app.clock.now_ms();
        let m = self
            .app
            .state
            .store
            .set_delivery_status(&self.project, message_id, status, now, reason)
            .await
            .unwrap();
        assert!(m.is_some());
    }
}

/// The history (UTC; "yesterday" and "today" lie ahead of the real clock so
/// the test clock only moves forward):
///
/// yesterday 10:00 c0 (agent, team T1, medium): contact writes, 10:02 the
/// agent replies (120 s), 10:10 resolved.
///
/// today 09:00 agent and other agent online;
/// 10:00 c1 (agent, T1, high, intent refund, contact named like a formula):
///   the contact writes, 10:01 the agent replies (60 s), 10:10 resolved
///   (600 s, over the high policy's 300 s), 10:20 reopened, 10:24 resolved;
/// 10:05 c2 (other agent, no team, urgent, billing): the contact writes,
///   10:06 marked a lead, 10:09 the other agent replies (240 s, over the
///   urgent policy's 120 s first-response target);
/// 10:40 c3 (nobody, T1, low, refund; the same contact as c1, returning):
///   the contact writes, 10:40:30 a bot answers (30 s), 10:45 resolved
///   (bot only, within the low policy);
/// 10:46 c4 (agent, T1, WhatsApp, medium): three agent messages sent, one
///   delivered and read, one delivered, one failed;
/// read at 10:50.
async fn history(backend: Backend) -> Option<World> {
    let (app, owner, p) = signed_in(backend).await?;
    let base = format!("/api/v1/projects/{}", p.id);
    // A long online window: no presence sweep moves the agents meanwhile.
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}", p.id),
            json!({"online_window_s": 86_400}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut batch = Vec::new();
    for (anon, name, phone) in [
        ("x0", "Zoe", "+4915100000000"),
        ("x1", "=SUM(1+1)", "+4915100000001"),
        ("x2", "Bea", "+4915100000002"),
        ("x4", "Wanda", "+4915112345678"),
    ] {
        let session = format!("s-{anon}");
        batch.push(pageview(anon, &session, "https://shop.example/"));
        let traits = json!({"name": name, "email": format!("{anon}@shop.example"), "phone": phone});
        batch.push(identify(anon, &session, &format!("user-{anon}"), traits));
    }
    app.collect_ok(&p.write_key, batch).await;

    let agent = app.as_role(Role::Agent).await;
    let agent_id = app.account_id(&agent).await;
    let other = app.create_user("agent2@example.com", Role::Agent).await;
    let other_id = app.account_id(&other).await;
    let supervisor = app.as_role(Role::Supervisor).await;
    let supervisor_id = app.account_id(&supervisor).await;
    let team = created(
        app.post(&owner, &format!("{base}/teams"), json!({"name": "T1"}))
            .await,
    )
    .await;
    let team = string_at(&team, "id");
    for member in [&agent_id, &supervisor_id] {
        let res = app
            .put(
                &owner,
                &format!("{base}/teams/{team}/members/{member}"),
                json!({}),
            )
            .await;
        assert!(res.status().is_success());
    }
    for (priority, first, resolution) in
        [("high", 120, 300), ("urgent", 120, 3600), ("low", 60, 600)]
    {
        let res = app
            .put(
                &owner,
                &format!("{base}/sla-policies/{priority}"),
                json!({"first_response_target_s": first, "resolution_target_s": resolution}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let channel = json!({"phone_number_id": "987654321012", "access_token": "t",
        "app_secret": "s", "verify_token": "v"});
    let res = app
        .put(&owner, &format!("{base}/channels/whatsapp"), channel)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .put(
            &owner,
            &format!("{base}/support/settings"),
            json!({"hourly_agent_cost": 3000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let yesterday = (app.clock.now_ms() / DAY + 1) * DAY;
    let today = yesterday + DAY;
    let mut w = World {
        app,
        owner,
        project: p.id.clone(),
        base,
        agent,
        agent_id,
        other,
        other_id,
        supervisor,
        team,
        today,
        c1: String::new(),
        c2: String::new(),
        c4: String::new(),
        failed_message: String::new(),
    };
    let conv = |contact: &str,
                assignee: Option<&str>,
                team: Option<&str>,
                priority: &str,
                intent: Option<&str>| {
        json!({"contact_id": contact, "assignee": assignee, "team_id": team,
            "priority": priority, "intent": intent})
    };

    // Yesterday.
    w.clock_to(yesterday + 10 * HOUR);
    let c0 = w
        .start(conv("x0", Some(&w.agent_id), Some(&w.team), "medium", None))
        .await;
    w.channel_says(&c0, Sender::Contact, None).await;
    w.clock_to(yesterday + 10 * HOUR + 2 * MIN + END);
    w.reply(&w.agent, &c0).await;
    w.clock_to(yesterday + 10 * HOUR + 10 * MIN + END);
    w.patch(&c0, json!({"status": "resolved"})).await;

    // Today.
    w.clock_to(today + 9 * HOUR);
    for who in [&w.agent, &w.other] {
        let res = w
            .app
            .put(
                who,
                &format!("{}/agents/me/status", w.base),
                json!({"status": "online"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    w.clock_to(today + 10 * HOUR);
    let c1 = w
        .start(conv(
            "x1",
            Some(&w.agent_id),
            Some(&w.team),
            "high",
            Some("refund"),
        ))
        .await;
    w.channel_says(&c1, Sender::Contact, None).await;
    w.clock_to(today + 10 * HOUR + MIN + END);
    w.reply(&w.agent, &c1).await;

    w.clock_to(today + 10 * HOUR + 5 * MIN);
    let c2 = w
        .start(conv(
            "x2",
            Some(&w.other_id),
            None,
            "urgent",
            Some("billing"),
        ))
        .await;
    w.channel_says(&c2, Sender::Contact, None).await;
    w.clock_to(today + 10 * HOUR + 6 * MIN);
    w.patch(&c2, json!({"is_lead": true})).await;
    w.clock_to(today + 10 * HOUR + 9 * MIN + END);
    w.reply(&w.other, &c2).await;

    w.clock_to(today + 10 * HOUR + 10 * MIN + END);
    w.patch(&c1, json!({"status": "resolved"})).await;
    w.clock_to(today + 10 * HOUR + 20 * MIN);
    w.patch(&c1, json!({"status": "open"})).await;
    w.clock_to(today + 10 * HOUR + 24 * MIN + END);
    w.patch(&c1, json!({"status": "resolved"})).await;

    w.clock_to(today + 10 * HOUR + 40 * MIN);
    let c3 = w
        .start(conv("x1", None, Some(&w.team), "low", Some("refund")))
        .await;
    w.channel_says(&c3, Sender::Contact, None).await;
    w.clock_to(today + 10 * HOUR + 40 * MIN + 30_000 + END);
    w.channel_says(&c3, Sender::Bot, None).await;
    w.clock_to(today + 10 * HOUR + 45 * MIN + END);
    w.patch(&c3, json!({"status": "resolved"})).await;

    w.clock_to(today + 10 * HOUR + 46 * MIN);
    let mut c4 = conv("x4", Some(&w.agent_id), Some(&w.team), "medium", None);
    c4["channel"] = json!("whatsapp");
    let c4 = w.start(c4).await;
    let agent_id = w.agent_id.clone();
    let m1 = w.channel_says(&c4, Sender::Agent, Some(&agent_id)).await;
    let m2 = w.channel_says(&c4, Sender::Agent, Some(&agent_id)).await;
    let m3 = w.channel_says(&c4, Sender::Agent, Some(&agent_id)).await;
    w.clock_to(today + 10 * HOUR + 47 * MIN);
    w.status(&m1, DeliveryStatus::Delivered, None).await;
    w.status(&m2, DeliveryStatus::Delivered, None).await;
    w.status(&m3, DeliveryStatus::Failed, Some("131026 undeliverable"))
        .await;
    w.clock_to(today + 10 * HOUR + 48 * MIN);
    w.status(&m1, DeliveryStatus::Read, None).await;

    w.clock_to(today + 10 * HOUR + 50 * MIN + END);
    w.c1 = c1;
    w.c2 = c2;
    w.c4 = c4;
    w.failed_message = m3;
    Some(w)
}

fn trend(v: &Value) -> (Value, String, f64) {
    (
        v["value"].clone(),
        v["trend"].as_str().unwrap().to_owned(),
        v["change"].as_f64().unwrap(),
    )
}

fn names(rows: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn row<'a>(rows: &'a Value, id: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent_id"] == id)
        .unwrap_or_else(|| panic!("{id} in {rows}"))
}

async fn every_section_has_the_histories_figures(backend: Backend) {
    let Some(w) = history(backend).await else {
        return;
    };
    let o = &w.owner;

    let kpi = w.get(o, "kpi").await;
    assert_eq!(kpi["scope"], "all");
    assert_eq!(kpi["range"]["tz"], "UTC");
    assert_eq!(kpi["range"]["from_ms"], w.today);
    // c2 and c4 open now; none at the start of today.
    assert_eq!(
        trend(&kpi["active_conversations"]),
        (json!(2), "up".into(), 100.0)
    );
    assert_eq!(trend(&kpi["open_tickets"]), (json!(2), "up".into(), 100.0));
    assert_eq!(
        kpi["open_tickets"]["by_priority"],
        json!({"urgent": 1, "high": 0, "medium": 1, "low": 0})
    );
    // Replies 60, 240 and 30 s today (110 on average), 120 yesterday; the
    // strictest first-response target is 60 s: 110 is within twice it.
    assert_eq!(
        trend(&kpi["avg_response_time"]),
        (json!(110), "down".into(), -8.3)
    );
    assert_eq!(kpi["avg_response_time"]["sla_status"], "warning");
    assert_eq!(
        trend(&kpi["whatsapp_delivery_rate"]),
        (json!(66.7), "up".into(), 100.0)
    );
    // 2 + 2 + 2 + 3 messages today, 2 yesterday.
    assert_eq!(
        trend(&kpi["messages_today"]),
        (json!(9), "up".into(), 350.0)
    );

    let ce = w.get(o, "conversation-effectiveness").await;
    let per_agent = &ce["conversations_per_agent"];
    assert_eq!(
        names(per_agent, "agent_name"),
        [
            "agent2@example.com",
            "agent@example.com",
            "supervisor@example.com"
        ]
    );
    let a = row(per_agent, &w.agent_id);
    assert_eq!(
        (&a["count"], &a["avg_response_time"]),
        (&json!(2), &json!(60))
    );
    let b = row(per_agent, &w.other_id);
    assert_eq!(
        (&b["count"], &b["avg_response_time"]),
        (&json!(1), &json!(240))
    );
    assert_eq!(
        ce["avg_response_time_over_time"],
        json!([{"timestamp": iso(w.today + 10 * HOUR), "avg_seconds": 110}])
    );
    assert_eq!(
        ce["sla_compliance"],
        json!({"percentage": 66.7, "compliant": 2, "non_compliant": 1,
            "by_kind": {"first_response": 1, "next_response": 0, "resolution": 1}})
    );
    assert_eq!(
        ce["resolved_vs_open"],
        json!({"resolved": 3, "open": 2, "percentage": 60.0})
    );

    let wa = w.get(o, "whatsapp-performance").await;
    assert_eq!(
        wa["message_funnel"],
        json!({"sent": 3, "delivered": 2, "read": 1, "failed": 1})
    );
    assert_eq!(
        wa["broadcast_success_rate"],
        json!({"total": 0, "successful": 0, "failed": 0, "percentage": 0.0})
    );
    let failed = wa["failed_messages"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], w.failed_message.as_str());
    assert_eq!(failed[0]["recipient"], "+4915112345678");
    assert_eq!(failed[0]["error"], "131026 undeliverable");
    assert_eq!(
        minute(&failed[0]["timestamp"]),
        minute(&json!(iso(w.today + 10 * HOUR + 47 * MIN)))
    );
    let sessions = wa["active_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        (
            &sessions[0]["session_id"],
            &sessions[0]["phone_number"],
            &sessions[0]["status"]
        ),
        (
            &json!("whatsapp"),
            &json!("987654321012"),
            &json!("connected")
        )
    );
    assert_eq!(
        minute(&sessions[0]["last_seen"]),
        minute(&json!(iso(w.today + 10 * HOUR + 48 * MIN)))
    );
    assert_eq!(
        wa["queue_metrics"],
        json!({"depth": 0, "processing_rate": 0.0})
    );

    let load = w.get(o, "customer-load").await;
    let per_hour = load["incoming_chats_per_hour"].as_array().unwrap();
    assert_eq!(per_hour.len(), 24);
    assert_eq!(per_hour[10], json!({"hour": "10:00", "count": 4}));
    assert_eq!(
        per_hour
            .iter()
            .map(|h| h["count"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );
    assert_eq!(load["peak_hour"], json!({"hour": "10:00", "count": 4}));
    assert_eq!(load["new_vs_returning"], json!({"new": 3, "returning": 1}));
    // First answers 60, 240 and 30 s, all in the one busy hour.
    assert_eq!(load["avg_wait_time"], json!({"peak": 110, "off_peak": 0}));
    let dow = (w.today / DAY + 4) % 7; // 1970-01-01 was a Thursday.
    let cells: Vec<&Value> = load["heatmap"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["count"] != 0)
        .collect();
    assert_eq!(load["heatmap"].as_array().unwrap().len(), 168);
    assert_eq!(
        cells,
        [&json!({"day_of_week": dow, "hour": 10, "count": 4})]
    );

    let prod = w.get(o, "agent-productivity").await;
    let a = row(&prod["agent_metrics"], &w.agent_id);
    // Held c1 10:00–10:10 and 10:20–10:24, c4 since 10:46; online since 09:00.
    assert_eq!(
        (
            &a["chats_handled"],
            &a["resolution_rate"],
            &a["avg_handling_time"]
        ),
        (&json!(2), &json!(100.0), &json!(420))
    );
    assert_eq!(
        (&a["active_time"], &a["idle_time"]),
        (&json!(1080), &json!(5520))
    );
    assert_eq!(
        (&a["status"], &a["status_duration"]),
        (&json!("online"), &json!(6600))
    );
    let b = row(&prod["agent_metrics"], &w.other_id);
    assert_eq!(
        (&b["chats_handled"], &b["resolution_rate"]),
        (&json!(0), &json!(0.0))
    );
    assert_eq!(
        (&b["active_time"], &b["idle_time"]),
        (&json!(2700), &json!(3900))
    );
    assert_eq!(
        prod["workload_distribution"],
        json!({"balanced": 0, "overloaded": 0, "underutilized": 3})
    );

    let auto = w.get(o, "automation-impact").await;
    assert_eq!(
        auto["chatbot_vs_human"],
        json!({"chatbot": 1, "human": 2, "percentage": 33.3})
    );
    assert_eq!(
        auto["auto_reply_success"],
        json!({"total": 1, "successful": 1, "percentage": 100.0})
    );
    assert_eq!(
        auto["drop_off_rate"],
        json!({"total": 4, "dropped": 0, "percentage": 0.0})
    );
    assert_eq!(
        auto["top_intents"],
        json!([{"intent": "refund", "count": 3, "success_rate": 33.3}])
    );
    // One bot resolution × 420 s of human handling, at 30.00 an hour.
    assert_eq!(
        auto["time_saved"],
        json!({"hours": 0.1, "estimated_cost": 350, "currency": "USD"})
    );
    assert_eq!(
        auto["escalation_rate"],
        json!({"total": 4, "escalated": 0, "percentage": 0.0})
    );

    let biz = w.get(o, "business-impact").await;
    assert_eq!(
        trend(&biz["leads_generated"]),
        (json!(1), "up".into(), 100.0)
    );
    assert_eq!(biz["leads_generated"]["total"], 1);
    assert_eq!(
        biz["tickets_resolved"],
        json!({"today": 3, "week": 4, "month": 4})
    );
    assert_eq!(biz["campaign_conversion"], json!([]));
    assert_eq!(
        biz["repeat_customer_rate"],
        json!({"rate": 25.0, "trend": "up", "change": 100.0})
    );
    // 2 × 6600 s online at 30.00 an hour = 110.00, over 4 conversations.
    assert_eq!(
        biz["cost_per_conversation"],
        json!({"amount": 2750, "savings": 350, "currency": "USD"})
    );

    // The week: yesterday's conversation and reply count too.
    let week = w.get(o, "kpi?date_range=week").await;
    assert_eq!(week["messages_today"]["value"], 11);
    let day = iso(w.today - DAY)[..10].to_owned();
    let custom = w
        .get(o, &format!("kpi?start_date={day}&end_date={day}"))
        .await;
    assert_eq!(custom["messages_today"]["value"], 2);
    assert_eq!(custom["avg_response_time"]["value"], 120);
}

async fn filters_narrow_and_roles_scope_the_figures(backend: Backend) {
    let Some(w) = history(backend).await else {
        return;
    };
    let o = &w.owner;

    // Filters.
    let only_other = w
        .get(
            o,
            &format!("conversation-effectiveness?agent_id={}", w.other_id),
        )
        .await;
    assert_eq!(
        names(&only_other["conversations_per_agent"], "agent_id"),
        vec![w.other_id.clone()]
    );
    let whatsapp = w.get(o, "kpi?channel=whatsapp").await;
    assert_eq!(whatsapp["messages_today"]["value"], 3);
    assert_eq!(whatsapp["open_tickets"]["value"], 1);
    let email = w.get(o, "whatsapp-performance?channel=email").await;
    assert_eq!(email["message_funnel"]["sent"], 0);
    assert_eq!(email["failed_messages"], json!([]));
    let team = w.get(o, &format!("customer-load?team_id={}", w.team)).await;
    assert_eq!(team["new_vs_returning"], json!({"new": 2, "returning": 1}));
    let res = w
        .app
        .get(o, &format!("{}/support/kpi?channel=fax", w.base))
        .await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "invalid_field", "channel").await;
    let res = w
        .app
        .get(o, &format!("{}/support/kpi?start_date=2026-01-02", w.base))
        .await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "end_date").await;

    // An agent: their own facts only, nobody else's name anywhere.
    for section in SECTIONS {
        let body = w.get(&w.agent, section).await;
        assert_eq!(body["scope"], "own", "{section}");
        let text = body.to_string();
        assert!(!text.contains(&w.other_id), "{section}: {text}");
        assert!(!text.contains("agent2@example.com"), "{section}: {text}");
        assert!(
            !text.contains("supervisor@example.com"),
            "{section}: {text}"
        );
    }
    let kpi = w.get(&w.agent, "kpi").await;
    assert_eq!(kpi["open_tickets"]["value"], 1, "c4 only");
    assert_eq!(kpi["messages_today"]["value"], 5);
    assert_eq!(kpi["avg_response_time"]["value"], 60);
    assert_eq!(kpi["avg_response_time"]["sla_status"], "good");
    let ce = w.get(&w.agent, "conversation-effectiveness").await;
    assert_eq!(
        names(&ce["conversations_per_agent"], "agent_id"),
        vec![w.agent_id.clone()]
    );
    let prod = w.get(&w.agent, "agent-productivity").await;
    assert_eq!(
        names(&prod["agent_metrics"], "agent_id"),
        vec![w.agent_id.clone()]
    );
    // Asking for someone else's figures gives none.
    let theirs = w
        .get(&w.agent, &format!("kpi?agent_id={}", w.other_id))
        .await;
    assert_eq!(theirs["messages_today"]["value"], 0);
    assert_eq!(theirs["open_tickets"]["value"], 0);

    // A supervisor: team T1 (the agent and themselves), not c2.
    let kpi = w.get(&w.supervisor, "kpi").await;
    assert_eq!(kpi["scope"], "team");
    assert_eq!(kpi["open_tickets"]["value"], 1);
    // c1 2, c3 2, c4 3.
    assert_eq!(kpi["messages_today"]["value"], 7);
    let ce = w.get(&w.supervisor, "conversation-effectiveness").await;
    assert_eq!(
        names(&ce["conversations_per_agent"], "agent_name"),
        ["agent@example.com", "supervisor@example.com"]
    );
    let biz = w.get(&w.supervisor, "business-impact").await;
    assert_eq!(biz["leads_generated"]["value"], 0, "the lead is c2's");
    let outside = w
        .get(&w.supervisor, &format!("kpi?agent_id={}", w.other_id))
        .await;
    assert_eq!(outside["messages_today"]["value"], 0);

    // Supervisor-only routes refuse agents.
    for path in SUPERVISOR_ONLY {
        let res = w
            .app
            .get(&w.agent, &format!("{}/support/{path}", w.base))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

async fn viewers_are_refused_and_non_members_see_nothing(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let viewer = app.as_role(Role::Viewer).await;
    // Every new account joins the default project only: the outsider is
    // no member of Bravo.
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let bravo = app.create_project(&owner, "Bravo").await;
    let mut all: Vec<&str> = SECTIONS.to_vec();
    all.extend(SUPERVISOR_ONLY);
    for path in all {
        let url = format!("{base}/support/{path}");
        assert_eq!(
            app.get(&viewer, &url).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        assert_eq!(
            app.get(&owner, &url).await.status(),
            StatusCode::OK,
            "{path}"
        );
        let theirs = format!("/api/v1/projects/{}/support/{path}", bravo.id);
        let res = app.get(&outsider, &theirs).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(!res.text().await.unwrap().contains("Bravo"), "{path}");
        assert_eq!(
            app.get(&owner, &theirs).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let res = app
        .put(
            &viewer,
            &format!("{base}/support/settings"),
            json!({"agent_capacity": 3}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn settings_are_read_by_supervisors_and_set_by_admins(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let url = format!("/api/v1/projects/{}/support/settings", p.id);
    let supervisor = app.as_role(Role::Supervisor).await;
    let s = app.get_json(&supervisor, &url).await;
    assert_eq!(
        (
            &s["agent_capacity"],
            &s["hourly_agent_cost"],
            &s["currency"]
        ),
        (&json!(5), &json!(0), &json!("USD"))
    );
    let res = app
        .put(&supervisor, &url, json!({"agent_capacity": 3}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The currency is the project's reporting currency, set on the project.
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}", p.id),
            json!({"currency": "EUR"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.put(&owner, &url, json!({"agent_capacity": 3})).await;
    let s = json_of(res).await;
    assert_eq!(
        (
            &s["agent_capacity"],
            &s["hourly_agent_cost"],
            &s["currency"]
        ),
        (&json!(3), &json!(0), &json!("EUR"))
    );
    assert_eq!(app.get_json(&supervisor, &url).await["agent_capacity"], 3);
    for (body, field) in [
        (json!({"agent_capacity": 0}), "agent_capacity"),
        (json!({"hourly_agent_cost": -1}), "hourly_agent_cost"),
        (json!({"currency": "EUR"}), "currency"),
        (json!({"capacity": 1}), "capacity"),
    ] {
        let res = app.put(&owner, &url, body).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json_of(res).await["error"]["field"], field);
    }
}

async fn exports_are_csv_of_the_same_figures(backend: Backend) {
    let Some(w) = history(backend).await else {
        return;
    };
    let csv_of = |who: Session, path: String| {
        let app = &w.app;
        let url = format!("{}/support/export/{path}", w.base);
        async move {
            let res = app.get(&who, &url).await;
            assert_eq!(res.status(), StatusCode::OK, "{url}");
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            res.text().await.unwrap()
        }
    };
    let kpi = csv_of(w.owner.clone(), "kpi.csv".into()).await;
    assert!(kpi.starts_with("field,value\r\n"), "{kpi}");
    assert!(
        kpi.contains("open_tickets.by_priority.urgent,1\r\n"),
        "{kpi}"
    );
    assert!(kpi.contains("messages_today.value,9\r\n"), "{kpi}");
    assert!(kpi.contains("scope,all\r\n"), "{kpi}");

    let all = csv_of(w.owner.clone(), "conversations.csv".into()).await;
    let lines: Vec<&str> = all.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,contact,channel,status,priority,agent,team,created,first_response_s,resolution_s,sla_status,csat,bot,escalated,intent"
    );
    assert_eq!(lines.len(), 5, "c1..c4 were created today: {all}");
    let line = |cid: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(cid))
            .unwrap_or_else(|| panic!("{cid} in {all}"))
    };
    // The contact's formula-like name is neutralised.
    let c1 = line(&w.c1);
    assert!(
        c1.contains(",'=SUM(1+1),in_app,resolved,high,agent@example.com,T1,"),
        "{c1}"
    );
    assert!(c1.ends_with(",60,240,hit,,false,false,refund"), "{c1}");
    let c2 = line(&w.c2);
    assert!(c2.contains(",active_with_misses,"), "{c2}");
    let c4 = line(&w.c4);
    assert!(c4.contains(",Wanda,whatsapp,open,medium,"), "{c4}");

    // A supervisor's export holds their team's conversations only.
    let team = csv_of(w.supervisor.clone(), "conversations.csv".into()).await;
    assert_eq!(team.trim_end().split("\r\n").count(), 4, "{team}");
    assert!(!team.contains(&w.c2), "{team}");
    assert!(!team.contains("Bea"), "{team}");
}

/// Auto-reply success counts as failures only the reopens within 24 h of a
/// bot-only resolution, in the period of the reopen (UTC):
///
/// yesterday 08:00 A resolved by a bot, today 09:00 the contact writes again
///   (25 h: no failure);
/// yesterday 23:30 C resolved by a bot, today 00:30 the contact writes again
///   (1 h: a failure of today, not of yesterday);
/// today 07:00 B resolved by a bot, 09:00 an agent reopens it (2 h: a failure).
async fn auto_reply_success_counts_reopens_within_a_day(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let mut batch = Vec::new();
    for anon in ["ya", "yb", "yc"] {
        let session = format!("s-{anon}");
        batch.push(pageview(anon, &session, "https://shop.example/"));
        batch.push(identify(anon, &session, &format!("user-{anon}"), json!({})));
    }
    app.collect_ok(&p.write_key, batch).await;
    let yesterday = (app.clock.now_ms() / DAY + 1) * DAY;
    let today = yesterday + DAY;
    let clock_to = |at: i64| app.clock.advance_ms(at - app.clock.now_ms());
    let says = |cid: String, sender: Sender| {
        let (app, project) = (&app, p.id.clone());
        async move {
            let m = NewMessage {
                id: uuid(),
                conversation_id: cid,
                direction: if sender == Sender::Contact {
                    Direction::In
                } else {
                    Direction::Out
                },
                sender,
                sender_account_id: None,
                body: "hello".into(),
                private: false,
                attachments: "[]".into(),
                delivery_status: DeliveryStatus::Sent,
                channel_message_id: None,
                created_at: app.clock.now_ms(),
            };
            let added = app.state.store.add_message(&project, &Scope::All, &m).await;
            assert!(added.unwrap().is_some());
        }
    };
    let patch = |cid: String, status: &'static str| {
        let (app, owner, base) = (&app, &owner, base.clone());
        async move {
            let res = app
                .patch(
                    owner,
                    &format!("{base}/conversations/{cid}"),
                    json!({"status": status}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    };
    // Opened by the contact, answered by a bot, resolved at `at`.
    let bot_resolved = |contact: &'static str, at: i64| {
        let (app, owner, base) = (&app, &owner, base.clone());
        let (says, patch, clock_to) = (&says, &patch, &clock_to);
        async move {
            clock_to(at - 10 * MIN);
            let res = app
                .post(
                    owner,
                    &format!("{base}/conversations"),
                    json!({"contact_id": contact, "assignee": null}),
                )
                .await;
            let cid = string_at(&created(res).await, "id");
            says(cid.clone(), Sender::Contact).await;
            clock_to(at - 5 * MIN);
            says(cid.clone(), Sender::Bot).await;
            clock_to(at);
            patch(cid.clone(), "resolved").await;
            cid
        }
    };
    let a = bot_resolved("ya", yesterday + 8 * HOUR).await;
    let c = bot_resolved("yc", yesterday + 23 * HOUR + 30 * MIN).await;
    clock_to(today + 30 * MIN + END);
    says(c, Sender::Contact).await;
    let b = bot_resolved("yb", today + 7 * HOUR).await;
    clock_to(today + 9 * HOUR + END);
    says(a.clone(), Sender::Contact).await;
    patch(b, "open").await;
    clock_to(today + 10 * HOUR);

    let success = |q: String| {
        let (app, owner, base) = (&app, &owner, base.clone());
        async move {
            let body = app
                .get_json(owner, &format!("{base}/support/automation-impact{q}"))
                .await;
            body["auto_reply_success"].clone()
        }
    };
    // Today: B resolved; the reopens of B and C within the day undo two
    // (more than today's one): clamped at 0. A's, 25 h late, counts not.
    assert_eq!(
        success(String::new()).await,
        json!({"total": 1, "successful": 0, "percentage": 0.0})
    );
    // Yesterday: A and C resolved, nothing reopened that day.
    let day = iso(yesterday)[..10].to_owned();
    assert_eq!(
        success(format!("?start_date={day}&end_date={day}")).await,
        json!({"total": 2, "successful": 2, "percentage": 100.0})
    );
    // The week: three bot-only resolutions, two reopened within the day.
    assert_eq!(
        success("?date_range=week".into()).await,
        json!({"total": 3, "successful": 1, "percentage": 33.3})
    );
    // A's reopen is recorded, only not as a failure.
    let reopens: Vec<(Option<i64>, i64)> = app
        .state
        .store
        .support_events_of(&p.id, &a)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == "reopened")
        .map(|e| (e.value_s, e.flag))
        .collect();
    assert_eq!(reopens, vec![(Some(25 * 3600), 0)]);
}

/// Workload counts the conversations an agent holds now, not only the
/// holds that ended: online from 09:00, at 09:00 one agent takes six open
/// conversations and another three (capacity 5); at 10:00 none has ended.
async fn workload_counts_the_conversations_held_now(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let mut batch = Vec::new();
    for anon in ["wa", "wb"] {
        let session = format!("s-{anon}");
        batch.push(pageview(anon, &session, "https://shop.example/"));
        batch.push(identify(anon, &session, &format!("user-{anon}"), json!({})));
    }
    app.collect_ok(&p.write_key, batch).await;
    let busy = app.as_role(Role::Agent).await;
    let busy_id = app.account_id(&busy).await;
    let calm = app.create_user("calm@example.com", Role::Agent).await;
    let calm_id = app.account_id(&calm).await;
    let today = (app.clock.now_ms() / DAY + 1) * DAY;
    app.clock.advance_ms(today + 9 * HOUR - app.clock.now_ms());
    for (who, id, n, contact) in [(&busy, &busy_id, 6, "wa"), (&calm, &calm_id, 3, "wb")] {
        let res = app
            .put(
                who,
                &format!("{base}/agents/me/status"),
                json!({"status": "online"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        for _ in 0..n {
            let res = app
                .post(
                    &owner,
                    &format!("{base}/conversations"),
                    json!({"contact_id": contact, "assignee": id}),
                )
                .await;
            created(res).await;
        }
    }
    app.clock.advance_ms(HOUR);
    let prod = app
        .get_json(&owner, &format!("{base}/support/agent-productivity"))
        .await;
    let (b, c) = (
        row(&prod["agent_metrics"], &busy_id),
        row(&prod["agent_metrics"], &calm_id),
    );
    assert_eq!(
        (&b["chats_handled"], &b["workload"]),
        (&json!(0), &json!("overloaded"))
    );
    assert_eq!(c["workload"], "balanced");
    assert_eq!(
        prod["workload_distribution"],
        json!({"balanced": 1, "overloaded": 1, "underutilized": 0})
    );
    // A range before they took them: nothing held then.
    let day = iso(today - DAY)[..10].to_owned();
    let before = app
        .get_json(
            &owner,
            &format!("{base}/support/agent-productivity?start_date={day}&end_date={day}"),
        )
        .await;
    assert_eq!(
        before["workload_distribution"],
        json!({"balanced": 0, "overloaded": 0, "underutilized": 2})
    );
}

/// `YYYY-MM-DDTHH:MM` of an ISO timestamp.
fn minute(v: &Value) -> String {
    v.as_str().unwrap()[..16].to_owned()
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

crate::on_both_backends!(
    every_section_has_the_histories_figures,
    filters_narrow_and_roles_scope_the_figures,
    viewers_are_refused_and_non_members_see_nothing,
    settings_are_read_by_supervisors_and_set_by_admins,
    exports_are_csv_of_the_same_figures,
    auto_reply_success_counts_reopens_within_a_day,
    workload_counts_the_conversations_held_now,
);
