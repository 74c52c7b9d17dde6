//! The inbox: support timers (first response, resolution, reopen), delivery
//! statuses out of order, idempotent provider message ids, scoping for every
//! role, and isolation between projects.

use super::fixture::*;
use super::T0;
use crate::inbox::{
    AgentStatus, AssigneeFilter, Channel, ConversationPatch, ConversationQuery, DeliveryStatus,
    Direction, InboundContactMessage, InboundEmail, InboundStatus, Inbox, NewConversation,
    NewMessage, Priority, Scope, Sender, SlaPolicy, Status,
};
use crate::{Project, Role};

const S: i64 = 1000;

fn conversation(id: &str, person: &str, channel: Channel) -> NewConversation {
    NewConversation {
        id: id.into(),
        site_user_id: person.into(),
        channel,
        status: Status::Open,
        priority: Priority::Medium,
        assignee_account_id: None,
        team_id: None,
        inbox_id: None,
        handled_by_bot: false,
        intent: None,
        is_lead: false,
        external_id: None,
        created_by_account_id: None,
        created_at: T0,
    }
}

fn message(id: &str, conv: &str, direction: Direction, sender: Sender, at: i64) -> NewMessage {
    NewMessage {
        id: id.into(),
        conversation_id: conv.into(),
        direction,
        sender,
        sender_account_id: None,
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

fn inbound(id: &str, conv: &str, at: i64) -> NewMessage {
    message(id, conv, Direction::In, Sender::Contact, at)
}

fn reply(id: &str, conv: &str, at: i64) -> NewMessage {
    message(id, conv, Direction::Out, Sender::Agent, at)
}

async fn people(fx: &Fixture, p: &Project, ids: &[&str]) {
    let msgs: Vec<Msg> = ids
        .iter()
        .map(|id| identify(id, &format!("s-{id}"), T0 - 60 * S, &format!("user-{id}")))
        .collect();
    fx.ingest(p, msgs).await;
}

async fn status(fx: &Fixture, p: &Project, id: &str, to: Status, at: i64) {
    let patch = ConversationPatch {
        status: Some(to),
        ..ConversationPatch::default()
    };
    fx.update_conversation(&p.id, &Scope::All, id, &patch, at)
        .await
        .unwrap()
        .expect("visible to all");
}

pub async fn support_timers_and_reopen(fx: Fixture) {
    let p = fx.project("Support").await;
    people(&fx, &p, &["ana"]).await;
    let all = Scope::All;
    fx.create_conversation(&p.id, &conversation("c1", "ana", Channel::Whatsapp))
        .await
        .unwrap();

    // Before any inbound message, an agent's message is no response.
    fx.add_message(&p.id, &all, &reply("m0", "c1", T0 + S))
        .await
        .unwrap();
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!((c.first_inbound_at, c.first_response_at), (None, None));

    fx.add_message(&p.id, &all, &inbound("m1", "c1", T0 + 10 * S))
        .await
        .unwrap();
    fx.add_message(&p.id, &all, &inbound("m2", "c1", T0 + 20 * S))
        .await
        .unwrap();
    // A private note and a system message do not stop the timer.
    let mut note = reply("m3", "c1", T0 + 30 * S);
    note.private = true;
    fx.add_message(&p.id, &all, &note).await.unwrap();
    let system = message("m4", "c1", Direction::Out, Sender::System, T0 + 35 * S);
    fx.add_message(&p.id, &all, &system).await.unwrap();
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(c.first_inbound_at, Some(T0 + 10 * S));
    assert_eq!(c.first_response_at, None);
    assert_eq!(c.unread_count, 2);
    // The note does not move the conversation up the list; the system message does.
    assert_eq!(c.last_message_at, T0 + 35 * S);

    // A bot's answer is the first response; a later agent's changes nothing.
    let bot = message("m5", "c1", Direction::Out, Sender::Bot, T0 + 70 * S);
    fx.add_message(&p.id, &all, &bot).await.unwrap();
    fx.add_message(&p.id, &all, &reply("m6", "c1", T0 + 90 * S))
        .await
        .unwrap();
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(c.first_response_at, Some(T0 + 70 * S));
    assert_eq!(c.first_response_s, Some(60));
    assert_eq!(c.handled_by_bot, 1);

    // Resolution: open (creation) → pending → resolved.
    status(&fx, &p, "c1", Status::Pending, T0 + 100 * S).await;
    status(&fx, &p, "c1", Status::Resolved, T0 + 600 * S).await;
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(c.status, "resolved");
    assert_eq!(
        (c.resolved_at, c.resolution_s),
        (Some(T0 + 600 * S), Some(600))
    );
    // Resolving again, or closing, changes no timer.
    status(&fx, &p, "c1", Status::Resolved, T0 + 700 * S).await;
    status(&fx, &p, "c1", Status::Closed, T0 + 800 * S).await;
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!((c.status.as_str(), c.resolution_s), ("closed", Some(600)));

    // A reopen by an agent restarts the timer; the latest resolution stays
    // until the next one replaces it.
    status(&fx, &p, "c1", Status::Open, T0 + 1000 * S).await;
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(c.opened_at, T0 + 1000 * S);
    assert_eq!(
        (c.resolved_at, c.resolution_s),
        (Some(T0 + 600 * S), Some(600))
    );
    status(&fx, &p, "c1", Status::Resolved, T0 + 1300 * S).await;
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(
        (c.resolved_at, c.resolution_s),
        (Some(T0 + 1300 * S), Some(300))
    );

    // The contact writing again reopens it; the first response stays the first.
    fx.add_message(&p.id, &all, &inbound("m7", "c1", T0 + 2000 * S))
        .await
        .unwrap();
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!((c.status.as_str(), c.opened_at), ("open", T0 + 2000 * S));
    assert_eq!(c.first_response_at, Some(T0 + 70 * S));
    assert_eq!(c.unread_count, 3);

    // Reading up to m2 leaves m7 unread; reading m7 clears it.
    let c = fx
        .mark_read(&p.id, &all, "c1", "m2", T0 + 2001 * S)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.unread_count, 1);
    let c = fx
        .mark_read(&p.id, &all, "c1", "m7", T0 + 2002 * S)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.unread_count, 0);
    let thread = fx
        .messages(&p.id, &all, "c1", None, 100)
        .await
        .unwrap()
        .unwrap();
    let m1 = thread.items.iter().find(|m| m.id == "m1").unwrap();
    assert_eq!(
        (m1.delivery_status.as_str(), m1.read_at),
        ("read", Some(T0 + 2001 * S))
    );
    assert!(fx
        .mark_read(&p.id, &all, "c1", "nope", T0)
        .await
        .unwrap()
        .is_none());

    // Thread pages: newest first, the cursor continues without repeats.
    let first = fx
        .messages(&p.id, &all, "c1", None, 3)
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<&str> = first.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m7", "m6", "m5"]);
    let rest = fx
        .messages(&p.id, &all, "c1", first.next_cursor.as_ref(), 100)
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<&str> = rest.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m4", "m3", "m2", "m1", "m0"]);
    assert!(rest.next_cursor.is_none());
}

pub async fn delivery_statuses_are_monotonic_and_ids_idempotent(fx: Fixture) {
    let p = fx.project("Delivery").await;
    people(&fx, &p, &["ana"]).await;
    let all = Scope::All;
    fx.create_conversation(&p.id, &conversation("c1", "ana", Channel::Whatsapp))
        .await
        .unwrap();
    let mut out = reply("m1", "c1", T0);
    out.delivery_status = DeliveryStatus::Queued;
    out.channel_message_id = Some("wamid.1".into());
    let (m, created) = fx.add_message(&p.id, &all, &out).await.unwrap().unwrap();
    assert!(created);
    assert_eq!((m.delivery_status.as_str(), m.sent_at), ("queued", None));

    // The same provider id again: the stored message, nothing new.
    let mut again = reply("m1-dup", "c1", T0 + S);
    again.channel_message_id = Some("wamid.1".into());
    let (m, created) = fx.add_message(&p.id, &all, &again).await.unwrap().unwrap();
    assert!(!created);
    assert_eq!(m.id, "m1");
    let thread = fx
        .messages(&p.id, &all, "c1", None, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(thread.items.len(), 1);

    // Out of order: read arrives before delivered and sent.
    let set = |st, at| fx.set_delivery_status(&p.id, "m1", st, at, None);
    let m = set(DeliveryStatus::Read, T0 + 30 * S)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.delivery_status, "read");
    assert_eq!(
        (m.sent_at, m.delivered_at, m.read_at),
        (Some(T0 + 30 * S), Some(T0 + 30 * S), Some(T0 + 30 * S))
    );
    for late in [
        DeliveryStatus::Delivered,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Queued,
    ] {
        let m = set(late, T0 + 40 * S).await.unwrap().unwrap();
        assert_eq!(m.delivery_status, "read", "{late:?} after read");
        assert_eq!(m.read_at, Some(T0 + 30 * S));
        assert_eq!(m.failed_reason, None);
    }

    // sent → delivered by provider id; a repeat keeps the first time.
    let mut two = reply("m2", "c1", T0 + S);
    two.delivery_status = DeliveryStatus::Queued;
    two.channel_message_id = Some("wamid.2".into());
    fx.add_message(&p.id, &all, &two).await.unwrap();
    let by_id = |st, at| {
        fx.set_delivery_status_by_channel_id(&p.id, Channel::Whatsapp, "wamid.2", st, at, None)
    };
    by_id(DeliveryStatus::Delivered, T0 + 50 * S).await.unwrap();
    let m = by_id(DeliveryStatus::Delivered, T0 + 60 * S)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.delivered_at),
        ("delivered", Some(T0 + 50 * S))
    );
    // Failed only from queued or sent.
    let m = fx
        .set_delivery_status(
            &p.id,
            "m2",
            DeliveryStatus::Failed,
            T0 + 70 * S,
            Some("131047"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.failed_reason),
        ("delivered", None)
    );
    assert!(
        fx.set_delivery_status_by_channel_id(
            &p.id,
            Channel::Sms,
            "wamid.2",
            DeliveryStatus::Read,
            T0,
            None
        )
        .await
        .unwrap()
        .is_none(),
        "ids are per channel"
    );

    let mut three = reply("m3", "c1", T0 + 2 * S);
    three.delivery_status = DeliveryStatus::Queued;
    fx.add_message(&p.id, &all, &three).await.unwrap();
    let m = fx
        .set_delivery_status(
            &p.id,
            "m3",
            DeliveryStatus::Failed,
            T0 + 80 * S,
            Some("rate limited"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.failed_reason.as_deref()),
        ("failed", Some("rate limited"))
    );
    let m = fx
        .set_delivery_status(&p.id, "m3", DeliveryStatus::Delivered, T0 + 90 * S, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.delivery_status, "failed", "failed is final");

    // Messages without a provider id never collide.
    for id in ["n1", "n2"] {
        let (_, created) = fx
            .add_message(&p.id, &all, &reply(id, "c1", T0 + 3 * S))
            .await
            .unwrap()
            .unwrap();
        assert!(created);
    }

    // The same provider id on another channel or project is another message.
    let other = fx.project("Other").await;
    people(&fx, &other, &["ana"]).await;
    fx.create_conversation(&other.id, &conversation("c1", "ana", Channel::Whatsapp))
        .await
        .unwrap();
    let mut foreign = reply("m1", "c1", T0);
    foreign.channel_message_id = Some("wamid.1".into());
    let (m, created) = fx
        .add_message(&other.id, &all, &foreign)
        .await
        .unwrap()
        .unwrap();
    assert!(created);
    assert_eq!(m.delivery_status, "sent");
    // Project isolation of status updates: `Other`'s m1 stays sent.
    fx.set_delivery_status(&p.id, "m1", DeliveryStatus::Read, T0, None)
        .await
        .unwrap();
    let m = fx
        .set_delivery_status(&other.id, "m1", DeliveryStatus::Sent, T0, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.delivery_status, "sent");

    // External ids are unique per project: creating again returns the stored one.
    let mut ext = conversation("c2", "ana", Channel::Api);
    ext.external_id = Some("zendesk-9".into());
    let (_, created) = fx.create_conversation(&p.id, &ext).await.unwrap();
    assert!(created);
    ext.id = "c3".into();
    let (c, created) = fx.create_conversation(&p.id, &ext).await.unwrap();
    assert!(!created);
    assert_eq!(c.id, "c2");
    let (_, created) = fx.create_conversation(&other.id, &ext).await.unwrap();
    assert!(created, "external ids are per project");
}

fn ids(page: &crate::inbox::Page<crate::inbox::Conversation>) -> Vec<&str> {
    let mut v: Vec<&str> = page.items.iter().map(|c| c.id.as_str()).collect();
    v.sort_unstable();
    v
}

pub async fn scoping_by_role_and_team(fx: Fixture) {
    let p = fx.project("Scoped").await;
    let other = fx.project("Elsewhere").await;
    people(&fx, &p, &["ana", "bob"]).await;
    people(&fx, &other, &["ana"]).await;
    let agent = fx.account("agent@example.com", Role::Agent).await;
    let peer = fx.account("peer@example.com", Role::Agent).await;
    let outsider = fx.account("outsider@example.com", Role::Agent).await;
    let supervisor = fx.account("sup@example.com", Role::Supervisor).await;
    for (a, role) in [
        (&agent, Role::Agent),
        (&peer, Role::Agent),
        (&outsider, Role::Agent),
        (&supervisor, Role::Supervisor),
    ] {
        fx.add_member(&p.id, &a.id, role, T0).await.unwrap();
    }
    let sales = fx.create_team(&p.id, "t-sales", "Sales", T0).await.unwrap();
    let billing = fx
        .create_team(&p.id, "t-billing", "Billing", T0)
        .await
        .unwrap();
    assert!(fx.create_team(&p.id, "t-dup", "Sales", T0).await.is_err());
    fx.add_team_member(&p.id, &sales.id, &agent.id, T0)
        .await
        .unwrap();
    fx.add_team_member(&p.id, &sales.id, &agent.id, T0)
        .await
        .unwrap();
    fx.add_team_member(&p.id, &sales.id, &peer.id, T0)
        .await
        .unwrap();
    fx.add_team_member(&p.id, &sales.id, &supervisor.id, T0)
        .await
        .unwrap();
    fx.add_team_member(&p.id, &billing.id, &outsider.id, T0)
        .await
        .unwrap();
    let teams = fx.teams(&p.id).await.unwrap();
    assert_eq!(
        teams.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["Billing", "Sales"]
    );
    assert_eq!(teams[1].members.len(), 3);
    let inbox = Inbox {
        id: "i-sales".into(),
        name: "Sales WhatsApp".into(),
        channel: "whatsapp".into(),
        team_id: Some(sales.id.clone()),
        created_at: T0,
    };
    fx.create_inbox(&p.id, &inbox).await.unwrap();

    let make = |id: &str, assignee: Option<&str>, team: Option<&str>, inbox: Option<&str>| {
        let mut c = conversation(id, "ana", Channel::Whatsapp);
        c.assignee_account_id = assignee.map(str::to_owned);
        c.team_id = team.map(str::to_owned);
        c.inbox_id = inbox.map(str::to_owned);
        c
    };
    let cases = [
        make("mine", Some(&agent.id), None, None),
        make("peers", Some(&peer.id), Some("t-sales"), None),
        make("sales-queue", None, None, Some("i-sales")),
        make("billing-queue", None, Some("t-billing"), None),
        make("billing-owned", Some(&outsider.id), Some("t-billing"), None),
        make("shared-queue", None, None, None),
        make("outsiders", Some(&outsider.id), None, None),
    ];
    for c in &cases {
        fx.create_conversation(&p.id, c).await.unwrap();
    }
    // Same id in another project: never seen through `p`, and vice versa.
    fx.create_conversation(&other.id, &make("mine", Some(&agent.id), None, None))
        .await
        .unwrap();
    let c = fx
        .conversation(&p.id, &Scope::All, "sales-queue")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.team_id.as_deref(),
        Some("t-sales"),
        "the inbox's team is taken"
    );

    let q = ConversationQuery {
        limit: 50,
        ..ConversationQuery::default()
    };
    let list = |scope: Scope| {
        let q = q.clone();
        let fx = &fx;
        let p = &p;
        async move { fx.list_conversations(&p.id, &scope, &q).await.unwrap() }
    };
    let everyone = list(Scope::All).await;
    assert_eq!(everyone.items.len(), cases.len());
    assert_eq!(
        ids(&list(Scope::of(Role::Owner, &agent.id)).await).len(),
        cases.len()
    );
    assert_eq!(
        ids(&list(Scope::of(Role::Agent, &agent.id)).await),
        ["mine", "sales-queue", "shared-queue"]
    );
    assert_eq!(
        ids(&list(Scope::of(Role::Agent, &outsider.id)).await),
        [
            "billing-owned",
            "billing-queue",
            "outsiders",
            "shared-queue"
        ]
    );
    assert_eq!(
        ids(&list(Scope::of(Role::Supervisor, &supervisor.id)).await),
        ["mine", "peers", "sales-queue", "shared-queue"]
    );
    assert!(list(Scope::of(Role::Viewer, &agent.id))
        .await
        .items
        .is_empty());

    // Reads, writes and threads obey the same scope.
    let as_agent = Scope::of(Role::Agent, &agent.id);
    assert!(fx
        .conversation(&p.id, &as_agent, "peers")
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .conversation(&p.id, &as_agent, "mine")
        .await
        .unwrap()
        .is_some());
    let patch = ConversationPatch {
        priority: Some(Priority::Urgent),
        ..ConversationPatch::default()
    };
    assert!(fx
        .update_conversation(&p.id, &as_agent, "peers", &patch, T0)
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .add_message(&p.id, &as_agent, &reply("x", "peers", T0))
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .messages(&p.id, &as_agent, "peers", None, 10)
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .mark_read(&p.id, &as_agent, "peers", "x", T0)
        .await
        .unwrap()
        .is_none());
    let c = fx
        .conversation(&p.id, &Scope::All, "peers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.priority, "medium");
    // Taking a queued conversation keeps it visible; giving it away hides it.
    let take = ConversationPatch {
        assignee_account_id: Some(Some(agent.id.clone())),
        ..ConversationPatch::default()
    };
    fx.update_conversation(&p.id, &as_agent, "shared-queue", &take, T0)
        .await
        .unwrap()
        .unwrap();
    let give = ConversationPatch {
        assignee_account_id: Some(Some(outsider.id.clone())),
        ..ConversationPatch::default()
    };
    fx.update_conversation(&p.id, &as_agent, "shared-queue", &give, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(fx
        .conversation(&p.id, &as_agent, "shared-queue")
        .await
        .unwrap()
        .is_none());

    // Filters.
    let filtered = |f: ConversationQuery| {
        let fx = &fx;
        let p = &p;
        async move { fx.list_conversations(&p.id, &Scope::All, &f).await.unwrap() }
    };
    let by_assignee = filtered(ConversationQuery {
        assignee: Some(AssigneeFilter::Account(outsider.id.clone())),
        ..q.clone()
    })
    .await;
    assert_eq!(
        ids(&by_assignee),
        ["billing-owned", "outsiders", "shared-queue"]
    );
    let nobody = filtered(ConversationQuery {
        assignee: Some(AssigneeFilter::Nobody),
        ..q.clone()
    })
    .await;
    assert_eq!(ids(&nobody), ["billing-queue", "sales-queue"]);
    let team = filtered(ConversationQuery {
        team_id: Some("t-billing".into()),
        ..q.clone()
    })
    .await;
    assert_eq!(ids(&team), ["billing-owned", "billing-queue"]);
    let channel = filtered(ConversationQuery {
        channel: Some(Channel::Email),
        ..q.clone()
    })
    .await;
    assert!(channel.items.is_empty());

    // Teams are per project; deleting one leaves its conversations team-less.
    assert!(fx.teams(&other.id).await.unwrap().is_empty());
    assert!(fx.delete_team(&other.id, "t-billing").await.is_err());
    fx.delete_team(&p.id, "t-billing").await.unwrap();
    let c = fx
        .conversation(&p.id, &Scope::All, "billing-queue")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.team_id, None);
    assert!(fx.teams_of(&p.id, &outsider.id).await.unwrap().is_empty());
    assert_eq!(fx.teams_of(&p.id, &agent.id).await.unwrap(), ["t-sales"]);
}

pub async fn list_pages_search_and_isolation(fx: Fixture) {
    let p = fx.project("Paged").await;
    let other = fx.project("Other").await;
    people(&fx, &p, &["ana", "bob"]).await;
    people(&fx, &other, &["ana"]).await;
    let all = Scope::All;
    for i in 0..7 {
        let person = if i % 2 == 0 { "ana" } else { "bob" };
        let id = format!("c{i}");
        fx.create_conversation(&p.id, &conversation(&id, person, Channel::InApp))
            .await
            .unwrap();
        // Two share a last message time, so ties are ordered by id.
        let at = T0 + (i.min(5) as i64) * S;
        fx.add_message(&p.id, &all, &inbound(&format!("m{i}"), &id, at))
            .await
            .unwrap();
    }
    let mut refund = inbound("needle", "c1", T0 + S);
    refund.body = "Where is my 100% REFUND_x?".into();
    fx.add_message(&p.id, &all, &refund).await.unwrap();
    fx.create_conversation(&other.id, &conversation("c9", "ana", Channel::InApp))
        .await
        .unwrap();
    let mut leak = inbound("leak", "c9", T0);
    leak.body = "refund elsewhere".into();
    fx.add_message(&other.id, &all, &leak).await.unwrap();

    let mut seen: Vec<String> = Vec::new();
    let mut cursor = None;
    loop {
        let q = ConversationQuery {
            limit: 3,
            cursor: cursor.clone(),
            ..ConversationQuery::default()
        };
        let page = fx.list_conversations(&p.id, &all, &q).await.unwrap();
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["c6", "c5", "c4", "c3", "c2", "c1", "c0"]);

    let search = |q: &str| ConversationQuery {
        q: Some(q.into()),
        limit: 50,
        ..ConversationQuery::default()
    };
    let found = fx
        .list_conversations(&p.id, &all, &search("refund_x"))
        .await
        .unwrap();
    assert_eq!(ids(&found), ["c1"]);
    let found = fx
        .list_conversations(&p.id, &all, &search("100%"))
        .await
        .unwrap();
    assert_eq!(ids(&found), ["c1"]);
    // Bodies match by word (migration 0028): `_` separates words, so this is
    // the word `100`, not a LIKE wildcard.
    let found = fx
        .list_conversations(&p.id, &all, &search("100_"))
        .await
        .unwrap();
    assert_eq!(ids(&found), ["c1"]);
    assert!(fx
        .list_conversations(&p.id, &all, &search("10_%"))
        .await
        .unwrap()
        .items
        .iter()
        .all(|c| c.id == "c1"));
    assert!(fx
        .list_conversations(&p.id, &all, &search("elsewhere"))
        .await
        .unwrap()
        .items
        .is_empty());
    let by_person = ConversationQuery {
        site_user_id: Some("bob".into()),
        limit: 50,
        ..ConversationQuery::default()
    };
    assert_eq!(
        ids(&fx
            .list_conversations(&p.id, &all, &by_person)
            .await
            .unwrap()),
        ["c1", "c3", "c5"]
    );
    let open = ConversationQuery {
        status: Some(Status::Resolved),
        limit: 50,
        ..ConversationQuery::default()
    };
    assert!(fx
        .list_conversations(&p.id, &all, &open)
        .await
        .unwrap()
        .items
        .is_empty());

    // Cross-project: ids of `p` mean nothing in `other`.
    assert!(fx
        .conversation(&other.id, &all, "c1")
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .messages(&other.id, &all, "c1", None, 10)
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .add_message(&other.id, &all, &inbound("z", "c1", T0))
        .await
        .unwrap()
        .is_none());
    assert!(fx
        .set_delivery_status(&other.id, "m1", DeliveryStatus::Read, T0, None)
        .await
        .unwrap()
        .is_none());
    let page = fx
        .list_conversations(
            &other.id,
            &all,
            &ConversationQuery {
                limit: 50,
                ..ConversationQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&page), ["c9"]);
    let c = fx.conversation(&p.id, &all, "c1").await.unwrap().unwrap();
    assert_eq!(c.contact_email, None);
    assert_eq!(c.unread_count, 2);

    // A merge by identify carries a person's conversations over.
    fx.ingest(
        &p,
        [pageview(
            "bob-2",
            "s-bob-2",
            T0 + 100 * S,
            "https://shop.example/",
        )],
    )
    .await;
    fx.create_conversation(&p.id, &conversation("c-anon", "bob-2", Channel::InApp))
        .await
        .unwrap();
    fx.ingest(&p, [identify("bob-2", "s-bob-2", T0 + 200 * S, "user-bob")])
        .await;
    let moved = fx
        .conversation(&p.id, &all, "c-anon")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.site_user_id, "bob");

    // Creation windows: an OR of `[from, to)`; none at all matches nothing.
    for (id, at) in [
        ("w1", T0 + 300 * S),
        ("w2", T0 + 400 * S),
        ("w3", T0 + 500 * S),
    ] {
        let mut c = conversation(id, "ana", Channel::InApp);
        c.created_at = at;
        fx.create_conversation(&p.id, &c).await.unwrap();
    }
    let within = |w: Vec<(i64, i64)>| ConversationQuery {
        created_within: Some(w),
        limit: 50,
        ..ConversationQuery::default()
    };
    let listed = |q: ConversationQuery| {
        let (fx, p) = (&fx, &p);
        async move {
            let page = fx.list_conversations(&p.id, &Scope::All, &q).await.unwrap();
            ids(&page)
                .into_iter()
                .map(String::from)
                .collect::<Vec<String>>()
        }
    };
    let windows = vec![
        (T0 + 300 * S, T0 + 400 * S),
        (T0 + 450 * S, T0 + 500 * S + 1),
    ];
    assert_eq!(listed(within(windows)).await, ["w1", "w3"]);
    assert_eq!(
        listed(within(vec![(T0 + 301 * S, T0 + 400 * S)])).await,
        Vec::<String>::new()
    );
    assert_eq!(listed(within(vec![])).await, Vec::<String>::new());
    let with_person = ConversationQuery {
        site_user_id: Some("bob".into()),
        ..within(vec![(T0, T0 + 1000 * S)])
    };
    assert_eq!(listed(with_person).await, ["c-anon", "c1", "c3", "c5"]);
    // Another project's conversations are never in a window.
    let other_q = within(vec![(i64::MIN, i64::MAX)]);
    assert_eq!(
        ids(&fx
            .list_conversations(&other.id, &all, &other_q)
            .await
            .unwrap()),
        ["c9"]
    );
}

pub async fn agent_status_log_and_sla(fx: Fixture) {
    let p = fx.project("Agents").await;
    let other = fx.project("Other").await;
    let a = fx.account("a@example.com", Role::Agent).await;
    fx.set_agent_status(&p.id, &a.id, AgentStatus::Online, "l1", T0)
        .await
        .unwrap();
    // The same status again logs nothing.
    let same = fx
        .set_agent_status(&p.id, &a.id, AgentStatus::Online, "l1b", T0 + S)
        .await
        .unwrap();
    assert_eq!(same.id, "l1");
    fx.set_agent_status(&p.id, &a.id, AgentStatus::Away, "l2", T0 + 90 * S)
        .await
        .unwrap();
    fx.set_agent_status(&p.id, &a.id, AgentStatus::Offline, "l3", T0 + 150 * S)
        .await
        .unwrap();
    let log = fx.agent_log(&p.id, &a.id, 10).await.unwrap();
    let view: Vec<(&str, &str, Option<i64>)> = log
        .iter()
        .map(|l| (l.id.as_str(), l.status.as_str(), l.duration_s))
        .collect();
    assert_eq!(
        view,
        [
            ("l3", "offline", None),
            ("l2", "away", Some(60)),
            ("l1", "online", Some(90))
        ]
    );
    assert_eq!(
        fx.agent_status(&p.id, &a.id).await.unwrap().unwrap().status,
        "offline"
    );
    // A range: the row running into it (online from T0), the away row
    // inside; the offline row starts after it; rows ended before are out.
    let ids = |v: Vec<crate::inbox::AgentLog>| v.into_iter().map(|l| l.id).collect::<Vec<_>>();
    let range = fx
        .agent_activity_between(&p.id, &a.id, T0 + 30 * S, T0 + 120 * S, 100)
        .await
        .unwrap();
    assert_eq!(ids(range), ["l1", "l2"]);
    let later = fx
        .agent_activity_between(&p.id, &a.id, T0 + 200 * S, T0 + 300 * S, 100)
        .await
        .unwrap();
    assert_eq!(ids(later), ["l3"], "the open row runs into any later range");
    let edge = fx
        .agent_activity_between(&p.id, &a.id, T0 + 90 * S, T0 + 150 * S, 100)
        .await
        .unwrap();
    assert_eq!(ids(edge), ["l2"], "a row ending at the start is out");
    assert!(fx
        .agent_activity_between(&other.id, &a.id, T0, T0 + 300 * S, 100)
        .await
        .unwrap()
        .is_empty());
    assert!(fx.agent_status(&other.id, &a.id).await.unwrap().is_none());
    assert_eq!(fx.agent_statuses(&p.id).await.unwrap().len(), 1);

    let policy = |prio: &str, first: i64| SlaPolicy {
        priority: prio.into(),
        first_response_target_s: first,
        resolution_target_s: first * 10,
        next_response_target_s: None,
        business_hours: None,
        updated_at: T0,
    };
    fx.put_sla_policy(&p.id, &policy("urgent", 60))
        .await
        .unwrap();
    fx.put_sla_policy(&p.id, &policy("low", 3600))
        .await
        .unwrap();
    fx.put_sla_policy(&p.id, &policy("urgent", 120))
        .await
        .unwrap();
    let list = fx.sla_policies(&p.id).await.unwrap();
    let view: Vec<(&str, i64)> = list
        .iter()
        .map(|s| (s.priority.as_str(), s.first_response_target_s))
        .collect();
    assert_eq!(view, [("low", 3600), ("urgent", 120)]);
    assert!(fx.sla_policies(&other.id).await.unwrap().is_empty());
    assert!(fx
        .delete_sla_policy(&other.id, Priority::Low)
        .await
        .is_err());
    fx.delete_sla_policy(&p.id, Priority::Low).await.unwrap();
    assert_eq!(fx.sla_policies(&p.id).await.unwrap().len(), 1);
}

/// Message bodies by word prefix through the full-text index (migration
/// 0028): case- and diacritics-folded, every word required,
/// another project's messages never found, hostile input never an error,
/// and messages written after the migration through `add_message` and
/// `receive_inbound` found; names still match as substrings.
pub async fn search_bodies_by_word_prefix(fx: Fixture) {
    let p = fx.project("Search").await;
    let other = fx.project("Elsewhere").await;
    people(&fx, &p, &["ana", "bob"]).await;
    people(&fx, &other, &["ana"]).await;
    let all = Scope::All;
    let bodies = [
        ("c1", "Mi PEDIDO número 4711 llegó dañado"),
        ("c2", "Where is my parcel? Tracking: XZ-99"),
        ("c3", "Café au lait, s'il vous plaît"),
    ];
    for (i, (conv, body)) in bodies.iter().enumerate() {
        let person = if i % 2 == 0 { "ana" } else { "bob" };
        fx.create_conversation(&p.id, &conversation(conv, person, Channel::InApp))
            .await
            .unwrap();
        let mut m = inbound(&format!("m-{conv}"), conv, T0 + i as i64 * S);
        m.body = (*body).into();
        fx.add_message(&p.id, &all, &m).await.unwrap();
    }
    fx.create_conversation(&other.id, &conversation("c1", "ana", Channel::InApp))
        .await
        .unwrap();
    let mut leak = inbound("leak", "c1", T0);
    leak.body = "parcel pedido café secret".into();
    fx.add_message(&other.id, &all, &leak).await.unwrap();

    let find = |q: &'static str| {
        let fx = &fx;
        let p = p.id.clone();
        async move {
            let query = ConversationQuery {
                q: Some(q.into()),
                limit: 50,
                ..ConversationQuery::default()
            };
            let page = fx.list_conversations(&p, &Scope::All, &query).await;
            let page = page.unwrap_or_else(|e| panic!("search {q:?}: {e}"));
            let mut found: Vec<String> = page.items.into_iter().map(|c| c.id).collect();
            found.sort();
            found
        }
    };
    // Prefixes, any case.
    assert_eq!(find("pedi").await, ["c1"]);
    assert_eq!(find("PARC").await, ["c2"]);
    assert_eq!(find("47").await, ["c1"]);
    assert_eq!(find("tracking xz").await, ["c2"]);
    // Same accents, any case, on both backends.
    assert_eq!(find("NÚMERO").await, ["c1"]);
    assert_eq!(find("café").await, ["c3"]);
    // Diacritics folded on both sides, both backends.
    assert_eq!(find("cafe").await, ["c3"]);
    assert_eq!(find("numero LLEGO danado").await, ["c1"]);
    assert_eq!(find("PLAIT").await, ["c3"]);
    assert_eq!(find("dañ").await, ["c1"]);
    // Every word is required; a word only inside another does not match.
    assert!(find("parcel pedido").await.is_empty());
    assert!(find("arcel").await.is_empty());
    // Another project's words never match here.
    assert!(find("secret").await.is_empty());
    // Hostile input: never a syntax error, words still found.
    for q in [
        "\"", "\"\"", "*", "-", "(", ")", "()", "NEAR", "NEAR(", "AND", "OR NOT", ":*", "'", "&|!",
        "\\", "body:x", "^", "{body}", "a\"b*", "%", "_",
    ] {
        find(q).await;
    }
    assert_eq!(find("\"parcel\"").await, ["c2"]);
    assert_eq!(find("parcel*").await, ["c2"]);
    assert_eq!(find("-pedido").await, ["c1"]);
    assert_eq!(find("(plaît) OR").await, Vec::<String>::new());
    assert_eq!(find("(plaît)").await, ["c3"]);
    assert_eq!(find("NEAR(where parcel)").await, Vec::<String>::new());
    assert_eq!(find("where: parcel?").await, ["c2"]);

    // Written after the migration through the inbound path: found, and the
    // contact's name still matches as a substring.
    let delivered = by_phone("s1", "+16505559876", Channel::Whatsapp, T0 + 10 * S);
    let mut delivered = delivered;
    delivered.body = "Necesito una factura".into();
    fx.receive_inbound(&p.id, std::slice::from_ref(&delivered), &[])
        .await
        .unwrap();
    assert_eq!(find("factu").await, ["c-s1"]);
    assert_eq!(find("heen").await, ["c-s1"]);
    // A later reply through `add_message` to an existing conversation.
    fx.add_message(&p.id, &all, &{
        let mut r = reply("r-c3", "c3", T0 + 20 * S);
        r.body = "Refunded the invoice".into();
        r
    })
    .await
    .unwrap();
    assert_eq!(find("invoice").await, ["c3"]);
    assert_eq!(find("refund invoice").await, ["c3"]);
}

fn by_phone(id: &str, phone: &str, channel: Channel, at: i64) -> InboundContactMessage {
    InboundContactMessage {
        channel,
        channel_message_id: format!("wamid.{id}"),
        phone: phone.into(),
        name: Some("Sheena".into()),
        body: format!("body of {id}"),
        attachments: "[]".into(),
        at,
        message_id: format!("m-{id}"),
        conversation_id: format!("c-{id}"),
    }
}

/// A channel delivery: a person per number (counted as a new user on the
/// project's local day, as the rebuild counts them), threading into the
/// channel's inbox and team, idempotent retries, forward-only statuses, a
/// later `identify` with the number's user id bringing the conversation
/// along, and projects apart.
pub async fn inbound_deliveries_by_phone(fx: Fixture) {
    let p = fx.project_in("Shop", "America/Los_Angeles").await;
    let team = fx.create_team(&p.id, "t1", "Support", T0).await.unwrap();
    let inbox = Inbox {
        id: "wa".into(),
        name: "WhatsApp".into(),
        channel: "whatsapp".into(),
        team_id: Some(team.id.clone()),
        created_at: T0,
    };
    fx.create_inbox(&p.id, &inbox).await.unwrap();
    let phone = "+16505551234";
    let first = by_phone("1", phone, Channel::Whatsapp, T0 + 10 * S);
    let out = fx
        .receive_inbound(&p.id, std::slice::from_ref(&first), &[])
        .await
        .unwrap();
    assert_eq!(
        (
            out.messages_stored,
            out.people_created,
            out.conversations_opened
        ),
        (1, 1, 1)
    );
    let c = fx
        .conversation(&p.id, &Scope::All, "c-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.site_user_id, "uid:tel:+16505551234");
    assert_eq!(
        (c.inbox_id.as_deref(), c.team_id.as_deref()),
        (Some("wa"), Some("t1"))
    );
    assert_eq!((c.first_inbound_at, c.unread_count), (Some(T0 + 10 * S), 1));

    // A retry, and a second message in the same delivery as a new one.
    let second = by_phone("2", phone, Channel::Whatsapp, T0 + 20 * S);
    let out = fx
        .receive_inbound(&p.id, &[first.clone(), second], &[])
        .await
        .unwrap();
    assert_eq!((out.messages_stored, out.messages_duplicate), (1, 1));
    assert_eq!((out.people_created, out.conversations_opened), (0, 0));
    let c = fx
        .conversation(&p.id, &Scope::All, "c-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.unread_count, 2);

    // Statuses of a reply: forward only, unknown ids counted.
    let mut r = reply("r1", "c-1", T0 + 30 * S);
    r.channel_message_id = Some("wamid.R1".into());
    fx.add_message(&p.id, &Scope::All, &r).await.unwrap();
    let status = |id: &str, s: DeliveryStatus, at: i64| InboundStatus {
        channels: vec![Channel::Whatsapp],
        channel_message_id: id.into(),
        status: s,
        at,
        failed_reason: Some("131047: Re-engagement message".into()),
    };
    let out = fx
        .receive_inbound(
            &p.id,
            &[],
            &[
                status("wamid.R1", DeliveryStatus::Read, T0 + 40 * S),
                status("wamid.R1", DeliveryStatus::Delivered, T0 + 35 * S),
                status("wamid.R1", DeliveryStatus::Failed, T0 + 45 * S),
                status("wamid.nope", DeliveryStatus::Read, T0 + 40 * S),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            out.statuses_applied,
            out.statuses_unchanged,
            out.statuses_unknown
        ),
        (1, 2, 1)
    );
    let page = fx
        .messages(&p.id, &Scope::All, "c-1", None, 10)
        .await
        .unwrap()
        .unwrap();
    let r1 = page.items.iter().find(|m| m.id == "r1").unwrap();
    assert_eq!(
        (r1.delivery_status.as_str(), r1.read_at),
        ("read", Some(T0 + 40 * S))
    );
    assert_eq!(r1.failed_reason, None);

    // The rollups agree with a rebuild (one new user on the local day).
    let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
    let day = tz.day_of(T0 + 10 * S);
    let date = tz.date_of(T0 + 10 * S);
    let before = fx.daily_stats(&p.id, &day, &day).await.unwrap();
    assert_eq!(before[0].counts.new_users, 1);
    crate::rollup::rebuild(&*fx, &p, date, date).await.unwrap();
    assert_eq!(fx.daily_stats(&p.id, &day, &day).await.unwrap(), before);

    // The site identifies a visitor with the number's user id: one person,
    // and the conversation is theirs.
    fx.ingest(
        &p,
        [pageview(
            "web-1",
            "s1",
            T0 + 50 * S,
            "https://shop.example/",
        )],
    )
    .await;
    fx.ingest(
        &p,
        [identify("web-1", "s1", T0 + 60 * S, "tel:+16505551234")],
    )
    .await;
    let person = fx.person_of(&p, "web-1").await;
    let c = fx
        .conversation(&p.id, &Scope::All, "c-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.site_user_id, person.id);
    // and the number's next message still finds them and their conversation.
    let third = by_phone("3", phone, Channel::Whatsapp, T0 + 70 * S);
    let out = fx.receive_inbound(&p.id, &[third], &[]).await.unwrap();
    assert_eq!(
        (
            out.messages_stored,
            out.people_created,
            out.conversations_opened
        ),
        (1, 0, 0)
    );
    let c = fx
        .conversation(&p.id, &Scope::All, "c-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.site_user_id.as_str(), c.unread_count),
        (person.id.as_str(), 3)
    );
    crate::rollup::rebuild(&*fx, &p, date, date).await.unwrap();
    assert_eq!(
        fx.daily_stats(&p.id, &day, &day).await.unwrap()[0]
            .counts
            .new_users,
        1
    );

    // Another project: the same number and provider id are its own.
    let q = fx.project("Other").await;
    let out = fx
        .receive_inbound(&q.id, std::slice::from_ref(&first), &[])
        .await
        .unwrap();
    assert_eq!((out.messages_stored, out.people_created), (1, 1));
    let mine = fx
        .list_conversations(
            &p.id,
            &Scope::All,
            &ConversationQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.items.len(), 1);
}

/// Presence: a socket stamp keeps an online or away agent alive; once no
/// stamp is newer than the project's online window (300 s by default) the
/// agent is stale, from the last stamp. Offline agents and other projects'
/// stamps do not count.
pub async fn agents_without_sockets_go_stale(fx: Fixture) {
    let p = fx.project("Presence").await;
    let other = fx.project("Elsewhere").await;
    let a = fx.account("a@example.com", Role::Agent).await;
    let b = fx.account("b@example.com", Role::Agent).await;
    fx.set_agent_status(&p.id, &a.id, AgentStatus::Online, "a1", T0)
        .await
        .unwrap();
    fx.set_agent_status(&p.id, &b.id, AgentStatus::Away, "b1", T0)
        .await
        .unwrap();
    fx.touch_agent(&p.id, &a.id, T0 + 200 * S).await.unwrap();
    // Another project's stamp is not this project's socket.
    fx.touch_agent(&other.id, &b.id, T0 + 200 * S)
        .await
        .unwrap();
    assert!(fx.stale_agents(T0 + 300 * S).await.unwrap().is_empty());
    let stale = fx.stale_agents(T0 + 301 * S).await.unwrap();
    assert_eq!(stale, [(p.id.clone(), b.id.clone(), T0)]);
    // An older stamp never moves the last seen moment back.
    fx.touch_agent(&p.id, &a.id, T0 + 100 * S).await.unwrap();
    let mut stale = fx.stale_agents(T0 + 600 * S).await.unwrap();
    stale.sort();
    let mut want = vec![
        (p.id.clone(), a.id.clone(), T0 + 200 * S),
        (p.id.clone(), b.id.clone(), T0),
    ];
    want.sort();
    assert_eq!(stale, want);
    fx.set_agent_status(&p.id, &b.id, AgentStatus::Offline, "b2", T0 + 600 * S)
        .await
        .unwrap();
    fx.touch_agent(&p.id, &b.id, T0 + 700 * S).await.unwrap();
    let stale = fx.stale_agents(T0 + 10_000 * S).await.unwrap();
    assert_eq!(stale, [(p.id.clone(), a.id.clone(), T0 + 200 * S)]);
}

fn by_email(id: &str, thread: &[&str], at: i64) -> InboundEmail {
    InboundEmail {
        channel_message_id: format!("<{id}@mail.example>"),
        thread_ids: thread.iter().map(|t| (*t).to_owned()).collect(),
        address: "ann@example.com".into(),
        name: Some("Ann Lee".into()),
        subject: Some(format!("subject of {id}")),
        body: format!("body of {id}"),
        attachments: "[]".into(),
        at,
        message_id: format!("m-{id}"),
        conversation_id: format!("c-{id}"),
    }
}

/// An inbound email: a person per address (a new user of the day, as the
/// rebuild counts them), a new conversation with the email's subject in the
/// email inbox, idempotent retries, threading by `In-Reply-To`/`References`
/// into the conversation holding that `Message-ID` (reopening it), and
/// projects apart.
pub async fn inbound_email_threads_by_message_id(fx: Fixture) {
    let p = fx.project_in("Shop", "Europe/Berlin").await;
    let inbox = Inbox {
        id: "mail".into(),
        name: "Email".into(),
        channel: "email".into(),
        team_id: None,
        created_at: T0,
    };
    fx.create_inbox(&p.id, &inbox).await.unwrap();
    let first = by_email("a", &["<unknown@elsewhere>"], T0 + 10 * S);
    let out = fx.receive_inbound_email(&p.id, &first).await.unwrap();
    assert!(out.stored && out.person_created && out.conversation_opened && !out.threaded);
    assert_eq!(out.conversation_id.as_deref(), Some("c-a"));
    let c = fx
        .conversation(&p.id, &Scope::All, "c-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.site_user_id, "uid:email:ann@example.com");
    assert_eq!(c.contact_email.as_deref(), Some("ann@example.com"));
    assert_eq!(c.contact_name.as_deref(), Some("Ann Lee"));
    assert_eq!(
        (
            c.channel.as_str(),
            c.subject.as_deref(),
            c.inbox_id.as_deref()
        ),
        ("email", Some("subject of a"), Some("mail"))
    );
    assert_eq!((c.first_inbound_at, c.unread_count), (Some(T0 + 10 * S), 1));
    assert!(!fx
        .fill_conversation_subject(&p.id, "c-a", "other")
        .await
        .unwrap());

    // The retry stores nothing.
    let out = fx.receive_inbound_email(&p.id, &first).await.unwrap();
    assert!(out.duplicate && !out.stored && !out.person_created);
    assert_eq!(out.conversation_id.as_deref(), Some("c-a"));

    // The rollups agree with a rebuild (one new user on the local day).
    let tz = vibe_core::day::ProjectTz::or_utc(&p.timezone);
    let day = tz.day_of(T0 + 10 * S);
    let date = tz.date_of(T0 + 10 * S);
    let before = fx.daily_stats(&p.id, &day, &day).await.unwrap();
    assert_eq!(before[0].counts.new_users, 1);
    crate::rollup::rebuild(&*fx, &p, date, date).await.unwrap();
    assert_eq!(fx.daily_stats(&p.id, &day, &day).await.unwrap(), before);

    // Our reply <r1@shop.example>; the conversation is resolved; the answer
    // names it in References only: threaded and reopened.
    let mut r = reply("r1", "c-a", T0 + 20 * S);
    r.channel_message_id = Some("<r1@shop.example>".into());
    fx.add_message(&p.id, &Scope::All, &r).await.unwrap();
    status(&fx, &p, "c-a", Status::Resolved, T0 + 30 * S).await;
    let answer = by_email("b", &["<nope@x>", "<r1@shop.example>"], T0 + 40 * S);
    let out = fx.receive_inbound_email(&p.id, &answer).await.unwrap();
    assert!(out.stored && out.threaded && !out.conversation_opened && !out.person_created);
    assert_eq!(out.conversation_id.as_deref(), Some("c-a"));
    let c = fx
        .conversation(&p.id, &Scope::All, "c-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, "open");
    assert_eq!(c.opened_at, T0 + 40 * S);
    assert_eq!(c.subject.as_deref(), Some("subject of a"));
    // An inbound id threads too; no id at all opens a new conversation for
    // the same person.
    let out = fx
        .receive_inbound_email(&p.id, &by_email("c", &["<b@mail.example>"], T0 + 50 * S))
        .await
        .unwrap();
    assert_eq!(out.conversation_id.as_deref(), Some("c-a"));
    let out = fx
        .receive_inbound_email(&p.id, &by_email("d", &[], T0 + 60 * S))
        .await
        .unwrap();
    assert!(out.conversation_opened && !out.person_created);
    let d = fx
        .conversation(&p.id, &Scope::All, "c-d")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.site_user_id, "uid:email:ann@example.com");

    // Another project: p's ids do not thread there, the person is its own.
    let q = fx.project("Other").await;
    let out = fx.receive_inbound_email(&q.id, &answer).await.unwrap();
    assert!(out.stored && out.person_created && out.conversation_opened && !out.threaded);
    let page = fx
        .messages(&p.id, &Scope::All, "c-a", None, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.items.len(), 4);
}

/// The outbox: a queued outbound message gets its row with the message
/// (notes, sent and inbound messages, in-app replies do not); a claim is
/// exclusive (two at once never take the same row), leased, skips busy
/// groups and waits for a retry's due time; sent/failed update the message
/// with the row; an abandoned send fails as an unknown outcome and is not
/// claimed again; queue figures per project and channel.
pub async fn outbox_claims_leases_and_enqueues(fx: Fixture) {
    use crate::inbox::{outbox::INTERRUPTED, OutboundGroup};
    let p = fx.project("Outbox").await;
    let q = fx.project("Outbox other").await;
    people(&fx, &p, &["ana"]).await;
    people(&fx, &q, &["bo"]).await;
    let all = Scope::All;
    for (id, ch) in [
        ("wa", Channel::Whatsapp),
        ("chat", Channel::InApp),
        ("sms", Channel::Sms),
    ] {
        fx.create_conversation(&p.id, &conversation(id, "ana", ch))
            .await
            .unwrap();
    }
    fx.create_conversation(&q.id, &conversation("wa", "bo", Channel::Whatsapp))
        .await
        .unwrap();
    let queued = |id: &str, conv: &str, at: i64| {
        let mut m = reply(id, conv, at);
        m.delivery_status = DeliveryStatus::Queued;
        m
    };
    let add = |pid: String, m: NewMessage| {
        let fx = &fx;
        let all = &all;
        async move { fx.add_message(&pid, all, &m).await.unwrap().unwrap() }
    };
    add(p.id.clone(), queued("m1", "wa", T0)).await;
    let mut note = queued("note", "wa", T0);
    note.private = true;
    add(p.id.clone(), note).await;
    add(p.id.clone(), reply("sent", "wa", T0)).await;
    add(p.id.clone(), inbound("in", "wa", T0)).await;
    add(p.id.clone(), queued("chat1", "chat", T0)).await;
    let mut bot = queued("bot1", "sms", T0 + 1);
    bot.sender = Sender::Bot;
    add(p.id.clone(), bot).await;
    add(q.id.clone(), queued("q1", "wa", T0)).await;

    let stats = fx.outbound_queue_stats(&p.id, T0 + S).await.unwrap();
    assert_eq!((stats.total.queued, stats.total.sending), (2, 0));
    let chans: Vec<&str> = stats
        .by_channel
        .iter()
        .map(|c| c.channel.as_str())
        .collect();
    assert_eq!(chans, ["sms", "whatsapp"]);

    // Busy groups are skipped; a claim is leased and not repeated.
    let busy = [OutboundGroup {
        project_id: q.id.clone(),
        channel: "whatsapp".into(),
    }];
    let lease = T0 + 61 * S;
    let jobs = fx
        .claim_outbound("c1", T0 + S, lease, 10, &busy)
        .await
        .unwrap();
    let mut ids: Vec<&str> = jobs.iter().map(|j| j.message_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["bot1", "m1"]);
    assert!(jobs
        .iter()
        .all(|j| j.attempts == 1 && j.project_id == p.id && j.claim_id == "c1"));
    let job = |id: &str| jobs.iter().find(|j| j.message_id == id).unwrap().clone();
    let (m1, bot1) = (job("m1"), job("bot1"));
    assert!(fx
        .claim_outbound("c2", T0 + S, lease, 10, &busy)
        .await
        .unwrap()
        .is_empty());
    let stats = fx.outbound_queue_stats(&p.id, T0 + S).await.unwrap();
    assert_eq!((stats.total.queued, stats.total.sending), (0, 2));
    // Only the claim's owner starts, retries or finishes a row.
    let mut stranger = m1.clone();
    stranger.claim_id = "c2".into();
    assert!(!fx.start_outbound(&stranger, T0 + S, lease).await.unwrap());
    assert!(!fx
        .outbound_sent(&stranger, "wamid.x", T0 + S)
        .await
        .unwrap());
    assert!(fx.start_outbound(&m1, T0 + S, lease).await.unwrap());

    // Retry: not due before its time, then claimed again (attempt 2).
    assert!(fx
        .outbound_retry_later(&m1, T0 + 2 * S, T0 + 10 * S, "503")
        .await
        .unwrap());
    assert!(!fx.outbound_sent(&m1, "wamid.x", T0 + 3 * S).await.unwrap());
    let early = fx
        .claim_outbound("c3", T0 + 9 * S, lease, 10, &busy)
        .await
        .unwrap();
    assert!(early.is_empty());
    let again = fx
        .claim_outbound("c4", T0 + 10 * S, lease, 10, &busy)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].message_id.as_str(), again[0].attempts), ("m1", 2));
    let m1 = again[0].clone();

    // Sent: message and row in one go; a second mark changes nothing.
    assert!(fx.start_outbound(&m1, T0 + 10 * S, lease).await.unwrap());
    assert!(fx
        .outbound_sent(&m1, "wamid.out1", T0 + 11 * S)
        .await
        .unwrap());
    assert!(!fx
        .outbound_sent(&m1, "wamid.out1", T0 + 12 * S)
        .await
        .unwrap());
    let m = fx.message_by_id(&p.id, "m1").await.unwrap().unwrap();
    assert_eq!(
        (
            m.delivery_status.as_str(),
            m.channel_message_id.as_deref(),
            m.sent_at
        ),
        ("sent", Some("wamid.out1"), Some(T0 + 11 * S))
    );
    // Failed with the provider's reason.
    assert!(fx
        .outbound_failed(&bot1, T0 + 12 * S, "(#131026) Message undeliverable")
        .await
        .unwrap());
    let m = fx.message_by_id(&p.id, "bot1").await.unwrap().unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.failed_reason.as_deref()),
        ("failed", Some("(#131026) Message undeliverable"))
    );
    let stats = fx.outbound_queue_stats(&p.id, T0 + 13 * S).await.unwrap();
    assert_eq!(
        (
            stats.total.queued,
            stats.total.sending,
            stats.total.failed_24h,
            stats.total.sent_1h
        ),
        (0, 0, 1, 1)
    );
    let wa = stats
        .by_channel
        .iter()
        .find(|c| c.channel == "whatsapp")
        .unwrap();
    assert_eq!((wa.counts.sent_1h, wa.counts.failed_24h), (1, 0));
    // Sent an hour ago no longer counts; the failure still does.
    let later = fx
        .outbound_queue_stats(&p.id, T0 + 11 * S + 3_600_000)
        .await
        .unwrap();
    assert_eq!((later.total.sent_1h, later.total.failed_24h), (0, 1));

    // Requeue a failed one (a sent one cannot be).
    assert!(fx
        .requeue_outbound(&p.id, "bot1", T0 + 20 * S)
        .await
        .unwrap());
    assert!(!fx.requeue_outbound(&p.id, "m1", T0 + 20 * S).await.unwrap());
    let m = fx.message_by_id(&p.id, "bot1").await.unwrap().unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.failed_reason),
        ("queued", None)
    );

    // A claimer that dies before starting: the row goes back to pending.
    let jobs = fx
        .claim_outbound("dead1", T0 + 20 * S, T0 + 80 * S, 10, &busy)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(fx.sweep_outbound(T0 + 79 * S).await.unwrap().is_empty());
    assert!(fx.sweep_outbound(T0 + 81 * S).await.unwrap().is_empty());
    assert!(!fx
        .start_outbound(&jobs[0], T0 + 82 * S, T0 + 99 * S)
        .await
        .unwrap());
    // Released at shutdown likewise.
    let jobs = fx
        .claim_outbound("stop", T0 + 82 * S, T0 + 140 * S, 10, &busy)
        .await
        .unwrap();
    assert_eq!((jobs.len(), jobs[0].attempts), (1, 1));
    let group = |pid: &str, ch: &str| OutboundGroup {
        project_id: pid.into(),
        channel: ch.into(),
    };
    let other = fx
        .release_outbound("stop", &group(&p.id, "whatsapp"), T0 + 83 * S)
        .await
        .unwrap();
    assert_eq!(other, 0, "only the group's rows");
    let sms = group(&p.id, "sms");
    assert_eq!(
        fx.release_outbound("stop", &sms, T0 + 83 * S)
            .await
            .unwrap(),
        1
    );
    // One that dies mid-send: failed as an unknown outcome, never again.
    let jobs = fx
        .claim_outbound("dead2", T0 + 84 * S, T0 + 140 * S, 10, &busy)
        .await
        .unwrap();
    assert_eq!((jobs.len(), jobs[0].attempts), (1, 1));
    assert!(fx
        .start_outbound(&jobs[0], T0 + 85 * S, T0 + 145 * S)
        .await
        .unwrap());
    assert_eq!(
        fx.release_outbound("dead2", &sms, T0 + 86 * S)
            .await
            .unwrap(),
        0
    );
    assert!(fx.sweep_outbound(T0 + 144 * S).await.unwrap().is_empty());
    let gone = fx.sweep_outbound(T0 + 146 * S).await.unwrap();
    assert_eq!(gone.len(), 1);
    let m = fx.message_by_id(&p.id, "bot1").await.unwrap().unwrap();
    assert_eq!(
        (m.delivery_status.as_str(), m.failed_reason.as_deref()),
        ("failed", Some(INTERRUPTED))
    );
    assert!(fx
        .claim_outbound("later", T0 + 200 * S, T0 + 260 * S, 10, &busy)
        .await
        .unwrap()
        .is_empty());
    assert!(!fx
        .outbound_sent(&jobs[0], "SMx", T0 + 147 * S)
        .await
        .unwrap());
    let m = fx.message_by_id(&p.id, "bot1").await.unwrap().unwrap();
    assert_eq!(m.delivery_status, "failed", "failed stays failed");

    // Two claims at once never take the same row.
    for i in 0..30 {
        add(
            q.id.clone(),
            queued(&format!("q-{i:02}"), "wa", T0 + 100 * S),
        )
        .await;
    }
    let now = T0 + 200 * S;
    let (a, b) = tokio::join!(
        fx.claim_outbound("x", now, now + 60 * S, 20, &[]),
        fx.claim_outbound("y", now, now + 60 * S, 20, &[])
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<String> = a.iter().chain(&b).map(|j| j.message_id.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a row claimed twice");
    let rest = fx
        .claim_outbound("z", now, now + 60 * S, 100, &[])
        .await
        .unwrap();
    assert_eq!(n + rest.len(), 31, "every row claimed exactly once");
    assert_eq!(
        fx.outbound_queue_depth().await.unwrap(),
        [("whatsapp".to_owned(), 31)]
    );
    // The projects' figures are their own.
    let stats = fx.outbound_queue_stats(&q.id, now).await.unwrap();
    assert_eq!((stats.total.sending, stats.total.sent_1h), (31, 0));

    // Pruning takes the sent rows touched before the cut, in chunks (one
    // row per statement here), and nothing waiting, sending or failed.
    let sent_row = "SELECT COUNT(*) FROM outbound_queue WHERE state = 'sent'";
    let sent: i64 = fx.db().scalar(sent_row, ()).await.unwrap();
    assert!(sent >= 1, "the test sent {sent} rows");
    let others = "SELECT COUNT(*) FROM outbound_queue WHERE state <> 'sent'";
    let kept: i64 = fx.db().scalar(others, ()).await.unwrap();
    assert_eq!(fx.prune_sent_outbound(T0).await.unwrap(), 0);
    let pruned = crate::inbox::outbox::prune_sent_in_chunks(fx.db(), now + S, 1)
        .await
        .unwrap();
    assert_eq!(pruned, sent as u64);
    assert_eq!(fx.db().scalar::<i64>(sent_row, ()).await.unwrap(), 0);
    assert_eq!(fx.db().scalar::<i64>(others, ()).await.unwrap(), kept);
}

/// A broadcast queues one template message (with its outbox row) per person
/// with a phone, reusing their latest WhatsApp conversation; created again
/// with the same id it adds nothing; stats follow the delivery statuses.
pub async fn broadcasts_queue_once_per_recipient(fx: Fixture) {
    use crate::inbox::{BroadcastPerson, NewBroadcast};
    let p = fx.project("Broadcasts").await;
    let q = fx.project("Broadcasts other").await;
    people(&fx, &p, &["ana"]).await;
    // Ana already talks to the project on WhatsApp: her thread is reused.
    fx.create_conversation(&p.id, &conversation("old", "ana", Channel::Whatsapp))
        .await
        .unwrap();
    let person = |id: &str, phone: Option<&str>, n: u32| BroadcastPerson {
        person_id: id.into(),
        phone: phone.map(str::to_owned),
        conversation_id: format!("c{n}"),
        message_id: format!("m{n}"),
    };
    let recipients = vec![
        person("ana", Some("+16505550001"), 1),
        person("tel:+16505550002", Some("+16505550002"), 2),
        person("nophone", None, 3),
    ];
    let new = NewBroadcast {
        id: "b1".into(),
        segment_id: "seg".into(),
        template_name: "spring_sale".into(),
        template_language: "en_US".into(),
        body: "Spring sale!".into(),
        created_by_account_id: Some("acc".into()),
        created_at: T0,
    };
    let b = fx.create_broadcast(&p.id, &new, &recipients).await.unwrap();
    assert_eq!((b.recipients, b.skipped), (2, 1));
    assert_eq!(
        (b.template_name.as_str(), b.channel.as_str()),
        ("spring_sale", "whatsapp")
    );
    let stats = fx.broadcast_stats(&p.id, "b1").await.unwrap();
    assert_eq!((stats.queued, stats.sent, stats.failed), (2, 0, 0));
    let m1 = fx.message_by_id(&p.id, "m1").await.unwrap().unwrap();
    assert_eq!(m1.conversation_id, "old");
    assert_eq!(
        (
            m1.direction.as_str(),
            m1.sender.as_str(),
            m1.delivery_status.as_str()
        ),
        ("out", "agent", "queued")
    );
    assert_eq!(m1.sender_account_id.as_deref(), Some("acc"));
    assert_eq!(m1.body, "Spring sale!");
    let t: serde_json::Value = serde_json::from_str(m1.template.as_deref().unwrap()).unwrap();
    assert_eq!(
        t,
        serde_json::json!({"name": "spring_sale", "language": "en_US"})
    );
    let m2 = fx.message_by_id(&p.id, "m2").await.unwrap().unwrap();
    assert_eq!(m2.conversation_id, "c2");
    let c2 = fx
        .conversation(&p.id, &Scope::All, "c2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c2.channel.as_str(), c2.status.as_str()),
        ("whatsapp", "open")
    );
    assert_eq!(c2.created_by_account_id.as_deref(), Some("acc"));
    // Both rode the outbox.
    let queue = fx.outbound_queue_stats(&p.id, T0 + S).await.unwrap();
    assert_eq!(queue.total.queued, 2);

    // Created again (a retried request, other fresh ids): nothing twice.
    let again: Vec<BroadcastPerson> = recipients
        .iter()
        .enumerate()
        .map(|(i, r)| BroadcastPerson {
            conversation_id: format!("again-c{i}"),
            message_id: format!("again-m{i}"),
            ..r.clone()
        })
        .collect();
    let b = fx.create_broadcast(&p.id, &new, &again).await.unwrap();
    assert_eq!((b.recipients, b.skipped), (2, 1));
    assert!(fx.message_by_id(&p.id, "again-m0").await.unwrap().is_none());
    assert!(fx.message_by_id(&p.id, "again-m1").await.unwrap().is_none());
    let queue = fx.outbound_queue_stats(&p.id, T0 + S).await.unwrap();
    assert_eq!(queue.total.queued, 2);

    // Outcomes per recipient.
    fx.set_delivery_status(&p.id, "m1", DeliveryStatus::Sent, T0 + S, None)
        .await
        .unwrap();
    fx.set_delivery_status(&p.id, "m1", DeliveryStatus::Read, T0 + 2 * S, None)
        .await
        .unwrap();
    fx.set_delivery_status(&p.id, "m2", DeliveryStatus::Failed, T0 + S, Some("400"))
        .await
        .unwrap();
    let stats = fx.broadcast_stats(&p.id, "b1").await.unwrap();
    assert_eq!(
        (
            stats.queued,
            stats.sent,
            stats.delivered,
            stats.read,
            stats.failed
        ),
        (0, 0, 0, 1, 1)
    );

    // Newest first; another project sees none of it.
    let mut later = new.clone();
    later.id = "b2".into();
    later.created_at = T0 + 10 * S;
    fx.create_broadcast(&p.id, &later, &[]).await.unwrap();
    let ids: Vec<String> = fx
        .list_broadcasts(&p.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(ids, ["b2", "b1"]);
    assert!(fx.broadcast(&q.id, "b1").await.unwrap().is_none());
    assert!(fx.list_broadcasts(&q.id, 10).await.unwrap().is_empty());
    assert_eq!(fx.broadcast_stats(&q.id, "b1").await.unwrap().queued, 0);

    // The range read: the same stats in one read, only the range's
    // broadcasts, newest first, and none of another project's.
    let between = |pid: String, from: i64, to: i64| {
        let fx = &fx;
        async move {
            fx.broadcasts_created_between(&pid, from, to, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|(b, s)| (b.id, (s.queued, s.sent, s.delivered, s.read, s.failed)))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        between(p.id.clone(), T0, T0 + 11 * S).await,
        [
            ("b2".to_owned(), (0, 0, 0, 0, 0)),
            ("b1".to_owned(), (0, 0, 0, 1, 1))
        ]
    );
    assert_eq!(
        between(p.id.clone(), T0 + 5 * S, T0 + 11 * S).await,
        [("b2".to_owned(), (0, 0, 0, 0, 0))]
    );
    assert!(between(q.id.clone(), T0, T0 + 11 * S).await.is_empty());
}
