//! The support reporting facts (`support_events`): the real store write
//! paths (create, messages, patches, webhooks, delivery statuses) and the
//! exact facts each records, with the attribution of that moment.

use super::fixture::*;
use super::T0;
use crate::inbox::{
    Channel, ConversationPatch, DeliveryStatus, Direction, InboundContactMessage, InboundStatus,
    NewConversation, NewMessage, Priority, Scope, Sender, SlaPolicy, Status,
};
use crate::Project;

const S: i64 = 1000;

fn conversation(id: &str, person: &str, assignee: Option<&str>) -> NewConversation {
    NewConversation {
        id: id.into(),
        site_user_id: person.into(),
        channel: Channel::Whatsapp,
        status: Status::Open,
        priority: Priority::Medium,
        assignee_account_id: assignee.map(Into::into),
        team_id: Some("t1".into()),
        inbox_id: None,
        handled_by_bot: false,
        intent: None,
        is_lead: false,
        external_id: None,
        created_by_account_id: None,
        created_at: T0,
    }
}

fn message(id: &str, conv: &str, sender: Sender, account: Option<&str>, at: i64) -> NewMessage {
    let direction = if sender == Sender::Contact {
        Direction::In
    } else {
        Direction::Out
    };
    NewMessage {
        id: id.into(),
        conversation_id: conv.into(),
        direction,
        sender,
        sender_account_id: account.map(Into::into),
        body: format!("body of {id}"),
        private: false,
        attachments: "[]".into(),
        delivery_status: if direction == Direction::In {
            DeliveryStatus::Delivered
        } else {
            DeliveryStatus::Sent
        },
        channel_message_id: None,
        created_at: at,
    }
}

async fn people(fx: &Fixture, p: &Project, ids: &[&str]) {
    let msgs: Vec<Msg> = ids
        .iter()
        .map(|id| identify(id, &format!("s-{id}"), T0 - 60 * S, &format!("user-{id}")))
        .collect();
    fx.ingest(p, msgs).await;
}

async fn patch(fx: &Fixture, p: &Project, id: &str, patch: ConversationPatch, at: i64) {
    fx.update_conversation(&p.id, &Scope::All, id, &patch, at)
        .await
        .unwrap()
        .expect("visible to all");
}

async fn add(fx: &Fixture, p: &Project, m: NewMessage) {
    fx.add_message(&p.id, &Scope::All, &m)
        .await
        .unwrap()
        .expect("visible");
}

/// `(name, seconds after T0, account, value_s, flag, label)`.
type Fact = (
    &'static str,
    i64,
    Option<&'static str>,
    Option<i64>,
    i64,
    Option<&'static str>,
);

async fn facts(fx: &Fixture, p: &Project, conv: &str) -> Vec<Fact> {
    let mut out: Vec<Fact> = Vec::new();
    for e in fx.support_events_of(&p.id, conv).await.unwrap() {
        assert_eq!(e.conversation_id, conv);
        let leak = |s: Option<String>| s.map(|s| &*Box::leak(s.into_boxed_str()));
        let name: &'static str = Box::leak(e.name.into_boxed_str());
        out.push((
            name,
            (e.at - T0) / S,
            leak(e.account_id),
            e.value_s,
            e.flag,
            leak(e.label),
        ));
    }
    out
}

fn policy(priority: &str, first: i64, resolution: i64, next: Option<i64>) -> SlaPolicy {
    SlaPolicy {
        priority: priority.into(),
        first_response_target_s: first,
        resolution_target_s: resolution,
        next_response_target_s: next,
        business_hours: None,
        updated_at: T0,
    }
}

/// Created, inbound, a bot's answer, an agent's (reply time since the
/// contact started waiting, a next-response miss, an escalation), a
/// reassignment (the first agent's `handled`), a resolution judged by the
/// policy, a reopen by the contact, CSAT and lead — attributed each time to
/// whoever held the conversation then.
pub async fn support_events_follow_the_conversation(fx: Fixture) {
    let p = fx.project("Support facts").await;
    people(&fx, &p, &["ana"]).await;
    fx.put_sla_policy(&p.id, &policy("medium", 60, 600, Some(30)))
        .await
        .unwrap();
    let (created, fresh) = fx
        .create_conversation(&p.id, &conversation("c1", "ana", Some("agent-a")))
        .await
        .unwrap();
    assert!(fresh);
    assert_eq!(created.id, "c1");
    add(
        &fx,
        &p,
        message("m1", "c1", Sender::Contact, None, T0 + 10 * S),
    )
    .await;
    add(&fx, &p, message("m2", "c1", Sender::Bot, None, T0 + 20 * S)).await;
    add(
        &fx,
        &p,
        message("m3", "c1", Sender::Contact, None, T0 + 30 * S),
    )
    .await;
    add(
        &fx,
        &p,
        message("m4", "c1", Sender::Contact, None, T0 + 40 * S),
    )
    .await;
    // An internal note and a system message answer nobody.
    let mut note = message("n1", "c1", Sender::Agent, Some("agent-a"), T0 + 50 * S);
    note.private = true;
    add(&fx, &p, note).await;
    add(
        &fx,
        &p,
        message("s1", "c1", Sender::System, None, T0 + 60 * S),
    )
    .await;
    add(
        &fx,
        &p,
        message("m5", "c1", Sender::Agent, Some("agent-a"), T0 + 100 * S),
    )
    .await;
    let reassign = ConversationPatch {
        assignee_account_id: Some(Some("agent-b".into())),
        ..Default::default()
    };
    patch(&fx, &p, "c1", reassign, T0 + 200 * S).await;
    let resolve = ConversationPatch {
        status: Some(Status::Resolved),
        ..Default::default()
    };
    patch(&fx, &p, "c1", resolve.clone(), T0 + 300 * S).await;
    // The same status again records nothing.
    patch(&fx, &p, "c1", resolve, T0 + 310 * S).await;
    add(
        &fx,
        &p,
        message("m6", "c1", Sender::Contact, None, T0 + 400 * S),
    )
    .await;
    let feedback = ConversationPatch {
        csat: Some(Some(5)),
        is_lead: Some(true),
        ..Default::default()
    };
    patch(&fx, &p, "c1", feedback.clone(), T0 + 500 * S).await;
    // Setting them again records nothing.
    patch(&fx, &p, "c1", feedback, T0 + 510 * S).await;

    let (a, b) = (Some("agent-a"), Some("agent-b"));
    let expected: Vec<Fact> = vec![
        ("conversation_created", 0, a, None, 0, Some("medium")),
        ("message", 10, a, None, 0, Some("contact")),
        ("first_response", 20, None, Some(10), 1, None),
        ("message", 20, a, None, 1, Some("bot")),
        ("reply", 20, None, Some(10), 1, None),
        ("sent", 20, None, None, 0, None),
        ("message", 30, a, None, 0, Some("contact")),
        ("message", 40, a, None, 0, Some("contact")),
        // A system message is sent to the contact (no `message` fact); the note is not.
        ("sent", 60, None, None, 0, None),
        ("escalated", 100, a, None, 0, None),
        ("message", 100, a, None, 1, Some("agent")),
        // Waiting since the earliest unanswered message (30 s), not the latest.
        ("reply", 100, a, Some(70), 0, None),
        ("sent", 100, a, None, 0, None),
        ("sla_miss", 100, a, Some(40), 0, Some("next_response")),
        ("assigned", 200, b, None, 0, Some("agent-a")),
        ("handled", 200, a, Some(200), 0, None),
        ("handled", 300, b, Some(100), 0, None),
        ("resolved", 300, b, Some(300), 0, None),
        ("sla", 300, b, None, 0, Some("missed")),
        ("status", 300, b, None, 0, Some("resolved")),
        ("message", 400, b, None, 0, Some("contact")),
        ("reopened", 400, b, Some(100), 0, None),
        ("csat", 500, b, Some(5), 0, None),
        ("lead", 500, b, None, 0, None),
    ];
    assert_eq!(facts(&fx, &p, "c1").await, expected);
    let stored = fx.support_events_of(&p.id, "c1").await.unwrap();
    assert!(stored
        .iter()
        .all(|e| e.team_id.as_deref() == Some("t1") && e.channel == "whatsapp"));
    let reply = stored.iter().find(|e| e.name == "reply").unwrap();
    assert_eq!(reply.message_id.as_deref(), Some("m2"));
    // No business hours in the policy: no business-hours values.
    assert!(stored.iter().all(|e| e.value_bh_s.is_none()));
    let ids: std::collections::HashSet<&str> = stored.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), stored.len());

    // Another project sees none of it.
    let other = fx.project("Other").await;
    assert!(fx
        .support_events_of(&other.id, "c1")
        .await
        .unwrap()
        .is_empty());
}

/// A bot-only resolution within the policy's targets (business hours round
/// the clock: the business-hours values are recorded too), a returning
/// contact's second conversation, and a conversation opened by a webhook.
pub async fn support_events_bot_only_sla_hit_and_webhooks(fx: Fixture) {
    let p = fx.project("Bots").await;
    people(&fx, &p, &["bo"]).await;
    let mut high = policy("high", 60, 600, None);
    let all_day: Vec<String> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| format!(r#""{d}": [["00:00","24:00"]]"#))
        .collect();
    high.business_hours = Some(format!("{{{}}}", all_day.join(",")));
    fx.put_sla_policy(&p.id, &high).await.unwrap();
    let mut c = conversation("c2", "bo", None);
    c.priority = Priority::High;
    fx.create_conversation(&p.id, &c).await.unwrap();
    add(
        &fx,
        &p,
        message("b1", "c2", Sender::Contact, None, T0 + 10 * S),
    )
    .await;
    let mut bot = message("b2", "c2", Sender::Bot, None, T0 + 15 * S);
    bot.delivery_status = DeliveryStatus::Queued;
    add(&fx, &p, bot).await;
    let resolve = ConversationPatch {
        status: Some(Status::Resolved),
        intent: Some(Some("pricing".into())),
        ..Default::default()
    };
    patch(&fx, &p, "c2", resolve, T0 + 100 * S).await;
    let expected: Vec<Fact> = vec![
        ("conversation_created", 0, None, None, 0, Some("high")),
        ("message", 10, None, None, 0, Some("contact")),
        ("first_response", 15, None, Some(5), 1, None),
        ("message", 15, None, None, 1, Some("bot")),
        ("reply", 15, None, Some(5), 1, None),
        // Nobody held it: no `handled`; bot-only, with the intent.
        ("resolved", 100, None, Some(100), 1, Some("pricing")),
        ("sla", 100, None, None, 0, Some("hit")),
        ("status", 100, None, None, 0, Some("resolved")),
    ];
    assert_eq!(facts(&fx, &p, "c2").await, expected);
    let stored = fx.support_events_of(&p.id, "c2").await.unwrap();
    let bh = |name: &str| stored.iter().find(|e| e.name == name).unwrap().value_bh_s;
    assert_eq!(
        (bh("first_response"), bh("reply"), bh("resolved")),
        (Some(5), Some(5), Some(100))
    );

    // The same contact again: a returning contact.
    let mut again = conversation("c3", "bo", None);
    again.created_at = T0 + 200 * S;
    fx.create_conversation(&p.id, &again).await.unwrap();
    let created = facts(&fx, &p, "c3").await;
    assert_eq!(
        created,
        vec![("conversation_created", 200, None, None, 1, Some("medium"))]
    );

    // A webhook's contact: created (new contact) and the message; a retry
    // records nothing more.
    let wa = InboundContactMessage {
        channel: Channel::Whatsapp,
        channel_message_id: "wamid.in1".into(),
        phone: "+16505550001".into(),
        name: Some("Sheena".into()),
        body: "hi".into(),
        attachments: "[]".into(),
        at: T0 + 300 * S,
        message_id: "w1".into(),
        conversation_id: "cw".into(),
    };
    for _ in 0..2 {
        fx.receive_inbound(&p.id, std::slice::from_ref(&wa), &[])
            .await
            .unwrap();
    }
    assert_eq!(
        facts(&fx, &p, "cw").await,
        vec![
            ("conversation_created", 300, None, None, 0, Some("medium")),
            ("message", 300, None, None, 0, Some("contact")),
        ]
    );
}

/// `reopened` flags a failed auto-reply: a reopen within 24 h of a bot-only
/// resolution (by the contact writing, or an agent's PATCH), never one after
/// 24 h, never one of a resolution an agent took part in.
pub async fn support_events_reopen_flags_failed_auto_replies(fx: Fixture) {
    const H: i64 = 3600 * S;
    let p = fx.project("Reopens").await;
    people(&fx, &p, &["di", "ed"]).await;
    let resolve = ConversationPatch {
        status: Some(Status::Resolved),
        ..Default::default()
    };
    let reopen = ConversationPatch {
        status: Some(Status::Open),
        ..Default::default()
    };
    // A bot answers and the conversation is resolved bot-only.
    fx.create_conversation(&p.id, &conversation("c5", "di", None))
        .await
        .unwrap();
    add(
        &fx,
        &p,
        message("d1", "c5", Sender::Contact, None, T0 + 10 * S),
    )
    .await;
    add(&fx, &p, message("d2", "c5", Sender::Bot, None, T0 + 20 * S)).await;
    patch(&fx, &p, "c5", resolve.clone(), T0 + 100 * S).await;
    // 2 h later the contact writes again: within the day, a failure.
    add(
        &fx,
        &p,
        message("d3", "c5", Sender::Contact, None, T0 + 100 * S + 2 * H),
    )
    .await;
    // Resolved bot-only again; an agent reopens it 25 h later: too late.
    patch(&fx, &p, "c5", resolve.clone(), T0 + 100 * S + 3 * H).await;
    patch(&fx, &p, "c5", reopen.clone(), T0 + 100 * S + 28 * H).await;
    // Exactly 24 h after the next bot-only resolution still counts.
    patch(&fx, &p, "c5", resolve.clone(), T0 + 100 * S + 29 * H).await;
    patch(&fx, &p, "c5", reopen.clone(), T0 + 100 * S + 53 * H).await;
    // An agent answered in this one: its reopen is no bot's failure.
    fx.create_conversation(&p.id, &conversation("c6", "ed", Some("agent-a")))
        .await
        .unwrap();
    add(
        &fx,
        &p,
        message("e1", "c6", Sender::Contact, None, T0 + 10 * S),
    )
    .await;
    add(&fx, &p, message("e2", "c6", Sender::Bot, None, T0 + 20 * S)).await;
    add(
        &fx,
        &p,
        message("e3", "c6", Sender::Agent, Some("agent-a"), T0 + 30 * S),
    )
    .await;
    patch(&fx, &p, "c6", resolve, T0 + 100 * S).await;
    patch(&fx, &p, "c6", reopen, T0 + 100 * S + H).await;

    let of =
        |f: Vec<Fact>, name: &str| -> Vec<Fact> { f.into_iter().filter(|f| f.0 == name).collect() };
    let h = H / S;
    assert_eq!(
        of(facts(&fx, &p, "c5").await, "resolved")
            .iter()
            .map(|f| f.4)
            .collect::<Vec<_>>(),
        [1, 1, 1],
        "bot-only each time"
    );
    assert_eq!(
        of(facts(&fx, &p, "c5").await, "reopened"),
        vec![
            ("reopened", 100 + 2 * h, None, Some(2 * h), 1, None),
            ("reopened", 100 + 28 * h, None, Some(25 * h), 0, None),
            ("reopened", 100 + 53 * h, None, Some(24 * h), 1, None),
        ]
    );
    assert_eq!(
        of(facts(&fx, &p, "c6").await, "reopened"),
        vec![("reopened", 100 + h, Some("agent-a"), Some(h), 0, None)]
    );
}

/// Delivery statuses out of order: a `read` first records `sent`,
/// `delivered` and `read` once each (at the read's time); a late
/// `delivered` and a repeated `read` record nothing; a failure records its
/// reason.
pub async fn support_events_delivery_out_of_order(fx: Fixture) {
    let p = fx.project("Delivery").await;
    people(&fx, &p, &["cy"]).await;
    fx.create_conversation(&p.id, &conversation("c4", "cy", Some("agent-a")))
        .await
        .unwrap();
    let mut r1 = message("r1", "c4", Sender::Agent, Some("agent-a"), T0 + 10 * S);
    r1.delivery_status = DeliveryStatus::Queued;
    r1.channel_message_id = Some("wamid.R1".into());
    add(&fx, &p, r1).await;
    let mut r2 = message("r2", "c4", Sender::Agent, Some("agent-a"), T0 + 20 * S);
    r2.delivery_status = DeliveryStatus::Queued;
    add(&fx, &p, r2).await;
    let status = |s: DeliveryStatus, at: i64| InboundStatus {
        channels: vec![Channel::Whatsapp],
        channel_message_id: "wamid.R1".into(),
        status: s,
        at,
        failed_reason: None,
    };
    let read = status(DeliveryStatus::Read, T0 + 50 * S);
    let late = status(DeliveryStatus::Delivered, T0 + 40 * S);
    fx.receive_inbound(&p.id, &[], std::slice::from_ref(&read))
        .await
        .unwrap();
    fx.receive_inbound(&p.id, &[], &[late, read]).await.unwrap();
    fx.set_delivery_status(&p.id, "r1", DeliveryStatus::Read, T0 + 60 * S, None)
        .await
        .unwrap();
    let reason = "131026: message undeliverable";
    fx.set_delivery_status(
        &p.id,
        "r2",
        DeliveryStatus::Failed,
        T0 + 70 * S,
        Some(reason),
    )
    .await
    .unwrap();
    // Failed is final: a later `sent` records nothing.
    fx.set_delivery_status(&p.id, "r2", DeliveryStatus::Sent, T0 + 80 * S, None)
        .await
        .unwrap();
    let a = Some("agent-a");
    let delivery: Vec<Fact> = facts(&fx, &p, "c4")
        .await
        .into_iter()
        .filter(|f| matches!(f.0, "sent" | "delivered" | "read" | "failed"))
        .collect();
    assert_eq!(
        delivery,
        vec![
            ("delivered", 50, a, None, 0, None),
            ("read", 50, a, None, 0, None),
            ("sent", 50, a, None, 0, None),
            ("failed", 70, a, None, 0, Some(reason)),
        ]
    );
    let stored = fx.support_events_of(&p.id, "c4").await.unwrap();
    let of = |m: &str| {
        stored
            .iter()
            .filter(|e| e.message_id.as_deref() == Some(m) && e.name != "message")
            .count()
    };
    assert_eq!((of("r1"), of("r2")), (3, 1));
}
