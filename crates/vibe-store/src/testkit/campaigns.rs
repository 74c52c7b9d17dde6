//! Campaigns: CRUD, edits only while draft or scheduled, deletes refused
//! while sending or paused, other projects see nothing; the state machine's
//! guards; recipients materialised once from a built-in or custom segment
//! with the skipped ones by reason (no address, unsubscribed, bounced
//! before); the claim (only while sending, only due rows), every outcome
//! with its event, a hard bounce remembered for later campaigns, recovery
//! of rows left claimed as `unknown`, cancel, finish; direct campaigns.

use serde_json::{json, Value};

use super::fixture::*;
use super::T0;
use crate::campaigns::{Campaign, CampaignAction, CampaignStatus, RecipientStatus, SendOutcome};
use crate::segments::Segment;
use crate::{Project, StoreError};

const MIN: i64 = 60_000;

fn draft(id: &str, segment: &str) -> Campaign {
    Campaign {
        id: id.into(),
        kind: "segment".into(),
        name: format!("Campaign {id}"),
        channel: "email".into(),
        template_id: None,
        content: Some(r#"{"subject":"Hi","body_text":"Hello {{ contact.name }}"}"#.into()),
        data: None,
        segment: Some(segment.into()),
        send_at: None,
        rate_per_minute: Some(600),
        status: "draft".into(),
        recipients: 0,
        skipped: 0,
        error: None,
        created_by_account_id: Some("acc-1".into()),
        created_at: T0,
        updated_at: T0,
        started_at: None,
        finished_at: None,
    }
}

fn who(anon: &str, traits: Value) -> Msg {
    identify(anon, &format!("s-{anon}"), T0, &format!("user-{anon}")).with("traits", traits)
}

/// ana, bob (unsubscribed below), cy (no email), dee (not an address),
/// eve (bounced below, upper-case address), fay; person ids by name.
async fn people(fx: &Fixture, p: &Project) -> Vec<(String, String)> {
    fx.ingest(
        p,
        [
            who("ana", json!({"email": "ana@example.com", "plan": "pro"})),
            who("bob", json!({"email": "Bob@Example.com"})),
            who("cy", json!({"name": "Cy"})),
            who("dee", json!({"email": "not-an-address"})),
            who("eve", json!({"email": "EVE@example.com"})),
            who("fay", json!({"email": "fay@example.com", "plan": "pro"})),
        ],
    )
    .await;
    let mut out = Vec::new();
    for name in ["ana", "bob", "cy", "dee", "eve", "fay"] {
        out.push((name.to_owned(), fx.person_of(p, name).await.id));
    }
    out
}

fn id_of(people: &[(String, String)], name: &str) -> String {
    people.iter().find(|(n, _)| n == name).unwrap().1.clone()
}

async fn schedule_and_start(fx: &Fixture, p: &Project, id: &str, now: i64) -> Campaign {
    fx.transition_campaign(&p.id, id, CampaignAction::Schedule, now)
        .await
        .unwrap();
    fx.start_campaign(&p.id, id, now).await.unwrap()
}

pub async fn campaigns_crud_guards_and_isolation(fx: Fixture) {
    let a = fx.project("A").await;
    let b = fx.project("B").await;
    assert!(fx.list_campaigns(&a.id).await.unwrap().is_empty());
    let c1 = draft("c1", "all");
    fx.create_campaign(&a.id, &c1).await.unwrap();
    let c2 = Campaign {
        created_at: T0 + 1,
        updated_at: T0 + 1,
        ..draft("c2", "active")
    };
    fx.create_campaign(&a.id, &c2).await.unwrap();
    assert_eq!(
        fx.get_campaign(&a.id, "c1").await.unwrap(),
        Some(c1.clone())
    );
    let ids: Vec<String> = fx
        .list_campaigns(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["c2", "c1"], "newest first");

    // Another project sees, changes and deletes none of them.
    assert_eq!(fx.get_campaign(&b.id, "c1").await.unwrap(), None);
    assert!(fx.list_campaigns(&b.id).await.unwrap().is_empty());
    let r = fx.update_campaign(&b.id, &c1).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = fx.delete_campaign(&b.id, "c1").await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
    let r = fx
        .transition_campaign(&b.id, "c1", CampaignAction::Schedule, T0)
        .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");

    // Edits while draft and scheduled.
    let renamed = Campaign {
        name: "Renamed".into(),
        send_at: Some(T0 + 60 * MIN),
        updated_at: T0 + 5,
        ..c1.clone()
    };
    fx.update_campaign(&a.id, &renamed).await.unwrap();
    let c = fx
        .transition_campaign(&a.id, "c1", CampaignAction::Schedule, T0 + 6)
        .await
        .unwrap();
    assert_eq!(
        (c.status.as_str(), c.name.as_str()),
        ("scheduled", "Renamed")
    );
    fx.update_campaign(
        &a.id,
        &Campaign {
            rate_per_minute: Some(5),
            ..renamed.clone()
        },
    )
    .await
    .unwrap();

    // Illegal transitions name the current status.
    for action in [
        CampaignAction::Schedule,
        CampaignAction::Pause,
        CampaignAction::Resume,
    ] {
        let r = fx.transition_campaign(&a.id, "c1", action, T0 + 7).await;
        assert!(
            matches!(&r, Err(StoreError::Conflict(s)) if s == "scheduled"),
            "{action:?}: {r:?}"
        );
    }
    // Not due yet: the sender's scan leaves it.
    let due = fx
        .campaigns_to_run(CampaignStatus::Scheduled, T0 + 10)
        .await
        .unwrap();
    assert!(due.is_empty(), "{due:?}");
    let due = fx
        .campaigns_to_run(CampaignStatus::Scheduled, T0 + 60 * MIN)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].project_id.as_str(), due[0].id.as_str()),
        (a.id.as_str(), "c1")
    );

    // Sending: no edits, no delete; a start again is a conflict.
    fx.start_campaign(&a.id, "c1", T0 + 60 * MIN).await.unwrap();
    let r = fx.update_campaign(&a.id, &renamed).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(s)) if s == "sending"),
        "{r:?}"
    );
    let r = fx.delete_campaign(&a.id, "c1").await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(s)) if s == "sending"),
        "{r:?}"
    );
    let r = fx.start_campaign(&a.id, "c1", T0 + 60 * MIN).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(s)) if s == "sending"),
        "{r:?}"
    );
    let sending = fx
        .campaigns_to_run(CampaignStatus::Sending, T0)
        .await
        .unwrap();
    assert_eq!(sending.len(), 1);

    // Pause, resume, cancel; cancelled ones may be deleted.
    let c = fx
        .transition_campaign(&a.id, "c1", CampaignAction::Pause, T0 + 61 * MIN)
        .await
        .unwrap();
    assert_eq!(c.status, "paused");
    let r = fx.delete_campaign(&a.id, "c1").await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(s)) if s == "paused"),
        "{r:?}"
    );
    fx.transition_campaign(&a.id, "c1", CampaignAction::Resume, T0 + 62 * MIN)
        .await
        .unwrap();
    let c = fx
        .transition_campaign(&a.id, "c1", CampaignAction::Cancel, T0 + 63 * MIN)
        .await
        .unwrap();
    assert_eq!(
        (c.status.as_str(), c.finished_at),
        ("cancelled", Some(T0 + 63 * MIN))
    );
    let r = fx
        .transition_campaign(&a.id, "c1", CampaignAction::Cancel, T0 + 64 * MIN)
        .await;
    assert!(
        matches!(&r, Err(StoreError::Conflict(s)) if s == "cancelled"),
        "{r:?}"
    );
    fx.delete_campaign(&a.id, "c1").await.unwrap();
    fx.delete_campaign(&a.id, "c2").await.unwrap();
    assert!(fx.list_campaigns(&a.id).await.unwrap().is_empty());
    let r = fx.delete_campaign(&a.id, "c2").await;
    assert!(matches!(r, Err(StoreError::NotFound)), "{r:?}");
}

pub async fn campaign_recipients_materialise_claim_and_record(fx: Fixture) {
    let p = fx.project("P").await;
    let other = fx.project("Other").await;
    let people = people(&fx, &p).await;
    // Someone of another project never becomes a recipient.
    fx.ingest(&other, [who("zed", json!({"email": "zed@example.com"}))])
        .await;
    let id = |n: &str| id_of(&people, n);
    fx.add_unsubscribe(
        &p.id,
        "email",
        " BOB@example.com ",
        Some(&id("bob")),
        None,
        T0,
    )
    .await
    .unwrap();
    // Another project's or channel's unsubscribe does not count here.
    fx.add_unsubscribe(&other.id, "email", "ana@example.com", None, None, T0)
        .await
        .unwrap();
    fx.add_unsubscribe(&p.id, "push", "fay@example.com", None, None, T0)
        .await
        .unwrap();

    // First campaign: everyone; eve bounces hard.
    fx.create_campaign(&p.id, &draft("first", "all"))
        .await
        .unwrap();
    let now = T0 + MIN;
    let c = schedule_and_start(&fx, &p, "first", now).await;
    assert_eq!(
        (c.status.as_str(), c.recipients, c.skipped),
        ("sending", 6, 3)
    );
    assert_eq!(c.started_at, Some(now));
    let counts = fx.campaign_counts(&p.id, "first", now).await.unwrap();
    assert_eq!(
        (counts.total, counts.queued, counts.skipped),
        (6, 3, 3),
        "{counts:?}"
    );
    assert_eq!(
        (
            counts.skipped_no_address,
            counts.skipped_unsubscribed,
            counts.skipped_bounced
        ),
        (2, 1, 0)
    );
    let skipped = fx
        .campaign_recipients(&p.id, "first", Some(RecipientStatus::Skipped), None, 10)
        .await
        .unwrap();
    let mut reasons: Vec<(String, String)> = skipped
        .iter()
        .map(|r| (r.person_id.clone(), r.skip_reason.clone().unwrap()))
        .collect();
    reasons.sort();
    let mut want = vec![
        (id("bob"), "unsubscribed".to_owned()),
        (id("cy"), "no_address".to_owned()),
        (id("dee"), "no_address".to_owned()),
    ];
    want.sort();
    assert_eq!(reasons, want);

    // Paused: nothing is claimed.
    fx.transition_campaign(&p.id, "first", CampaignAction::Pause, now)
        .await
        .unwrap();
    assert_eq!(
        fx.claim_recipient(&p.id, "first", "tok-x", now)
            .await
            .unwrap(),
        None
    );
    fx.transition_campaign(&p.id, "first", CampaignAction::Resume, now)
        .await
        .unwrap();

    // Claims in person-id order, each with its token; queued → claimed.
    let mut claimed = Vec::new();
    for i in 0..3 {
        let r = fx
            .claim_recipient(&p.id, "first", &format!("tok-{i}"), now)
            .await
            .unwrap()
            .expect("a queued recipient");
        assert_eq!((r.attempts, r.token.clone()), (1, format!("tok-{i}")));
        claimed.push(r);
    }
    assert_eq!(
        fx.claim_recipient(&p.id, "first", "tok-9", now)
            .await
            .unwrap(),
        None
    );
    let by_name = |n: &str| {
        claimed
            .iter()
            .find(|r| r.person_id == id(n))
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("eve").address.as_deref(), Some("eve@example.com"));
    let counts = fx.campaign_counts(&p.id, "first", now).await.unwrap();
    assert_eq!((counts.queued, counts.claimed), (0, 3));

    // ana: sent. eve: hard bounce. fay: 4xx, retried later.
    let sent = SendOutcome::Sent {
        message_id: "<m-ana@shop.example>".into(),
    };
    assert!(fx
        .record_send(&p.id, "first", &id("ana"), &sent, now + 1)
        .await
        .unwrap());
    // Recorded once: a second record finds it no longer claimed.
    assert!(!fx
        .record_send(&p.id, "first", &id("ana"), &sent, now + 2)
        .await
        .unwrap());
    let bounce = SendOutcome::Failed {
        error: "SMTP: 550 No such user".into(),
        hard_bounce: true,
    };
    assert!(fx
        .record_send(&p.id, "first", &id("eve"), &bounce, now + 1)
        .await
        .unwrap());
    let retry = SendOutcome::Retry {
        error: "SMTP: 451 busy".into(),
        next_attempt_at: now + 10 * MIN,
    };
    assert!(fx
        .record_send(&p.id, "first", &id("fay"), &retry, now + 1)
        .await
        .unwrap());
    assert!(fx
        .address_bounced(&p.id, "email", "Eve@Example.com")
        .await
        .unwrap());
    assert!(!fx
        .address_bounced(&other.id, "email", "eve@example.com")
        .await
        .unwrap());
    assert_eq!(
        fx.campaign_next_due(&p.id, "first").await.unwrap(),
        Some(now + 10 * MIN)
    );
    // Not due yet; the campaign is not done (fay is queued).
    assert_eq!(
        fx.claim_recipient(&p.id, "first", "tok-a", now + 2)
            .await
            .unwrap(),
        None
    );
    assert!(!fx
        .finish_campaign_if_done(&p.id, "first", now + 2)
        .await
        .unwrap());
    let again = fx
        .claim_recipient(&p.id, "first", "tok-b", now + 10 * MIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.person_id.clone(), again.attempts, again.token.clone()),
        (id("fay"), 2, by_name("fay").token),
        "the retry keeps its token"
    );
    let unknown = SendOutcome::Unknown {
        error: "connection lost after DATA".into(),
    };
    fx.record_send(&p.id, "first", &id("fay"), &unknown, now + 10 * MIN)
        .await
        .unwrap();
    assert!(fx
        .finish_campaign_if_done(&p.id, "first", now + 11 * MIN)
        .await
        .unwrap());
    let c = fx.get_campaign(&p.id, "first").await.unwrap().unwrap();
    assert_eq!(
        (c.status.as_str(), c.finished_at),
        ("sent", Some(now + 11 * MIN))
    );
    let counts = fx.campaign_counts(&p.id, "first", now).await.unwrap();
    assert_eq!(
        (
            counts.sent,
            counts.failed,
            counts.unknown,
            counts.sent_last_minute
        ),
        (1, 1, 1, 1)
    );
    let ana = fx
        .campaign_recipients(&p.id, "first", Some(RecipientStatus::Sent), None, 10)
        .await
        .unwrap();
    assert_eq!(ana.len(), 1);
    assert_eq!(
        (ana[0].sent_at, ana[0].message_id.as_deref()),
        (Some(now + 1), Some("<m-ana@shop.example>"))
    );
    let kinds = |events: Vec<crate::campaigns::CampaignEvent>| -> Vec<String> {
        events.into_iter().map(|e| e.kind).collect()
    };
    assert_eq!(
        kinds(
            fx.campaign_events(&p.id, "first", &id("ana"))
                .await
                .unwrap()
        ),
        ["sent"]
    );
    assert_eq!(
        kinds(
            fx.campaign_events(&p.id, "first", &id("eve"))
                .await
                .unwrap()
        ),
        ["bounced"]
    );
    assert_eq!(
        kinds(
            fx.campaign_events(&p.id, "first", &id("fay"))
                .await
                .unwrap()
        ),
        ["deferred", "unknown"]
    );

    // A custom segment (plan pro: ana, fay): eve's bounce is not in it, so a
    // second campaign to everyone shows it; the segment changing after the
    // start does not move the recipients.
    let seg = Segment {
        id: "pro".into(),
        name: "Pro".into(),
        description: None,
        criteria: r#"{"field": "plan", "op": "eq", "value": "pro"}"#.into(),
        user_count: 0,
        counted_at: None,
        created_at: T0,
        updated_at: T0,
    };
    fx.create_segment(&p.id, &seg).await.unwrap();
    fx.create_campaign(&p.id, &draft("pro", "pro"))
        .await
        .unwrap();
    let c = schedule_and_start(&fx, &p, "pro", now).await;
    assert_eq!((c.recipients, c.skipped), (2, 0));
    fx.ingest(
        &p,
        [who(
            "gus",
            json!({"email": "gus@example.com", "plan": "pro"}),
        )],
    )
    .await;
    assert_eq!(
        fx.campaign_counts(&p.id, "pro", now).await.unwrap().total,
        2
    );

    fx.create_campaign(&p.id, &draft("second", "all"))
        .await
        .unwrap();
    let c = schedule_and_start(&fx, &p, "second", now).await;
    assert_eq!((c.recipients, c.skipped), (7, 4));
    let counts = fx.campaign_counts(&p.id, "second", now).await.unwrap();
    assert_eq!(
        (
            counts.skipped_no_address,
            counts.skipped_unsubscribed,
            counts.skipped_bounced
        ),
        (2, 1, 1)
    );

    // A gone custom segment: the start is refused, the campaign stays.
    fx.create_campaign(&p.id, &draft("gone", "no-such-segment"))
        .await
        .unwrap();
    fx.transition_campaign(&p.id, "gone", CampaignAction::Schedule, now)
        .await
        .unwrap();
    let r = fx.start_campaign(&p.id, "gone", now).await;
    assert!(matches!(r, Err(StoreError::Rejected(_))), "{r:?}");
    let c = fx.get_campaign(&p.id, "gone").await.unwrap().unwrap();
    assert_eq!((c.status.as_str(), c.recipients), ("scheduled", 0));

    // A crash while claimed: recovery makes it unknown, never claimed again;
    // a claim newer than the cut-off is left alone.
    let r1 = fx
        .claim_recipient(&p.id, "second", "tok-c1", now + 20 * MIN)
        .await
        .unwrap()
        .unwrap();
    let r2 = fx
        .claim_recipient(&p.id, "second", "tok-c2", now + 40 * MIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        fx.recover_claimed(now + 30 * MIN, now + 50 * MIN)
            .await
            .unwrap(),
        1
    );
    let rows = fx
        .campaign_recipients(&p.id, "second", Some(RecipientStatus::Unknown), None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].person_id, r1.person_id);
    assert!(rows[0]
        .error
        .as_deref()
        .unwrap()
        .contains("outcome unknown"));
    let late = SendOutcome::Sent {
        message_id: "<late@x>".into(),
    };
    assert!(
        !fx.record_send(&p.id, "second", &r1.person_id, &late, now + 51 * MIN)
            .await
            .unwrap(),
        "a late outcome does not undo the recovery"
    );
    assert_eq!(
        fx.campaign_events(&p.id, "second", &r1.person_id)
            .await
            .unwrap()[0]
            .kind,
        "unknown"
    );

    // Cancel: the rest stays unsent; the claimed one still records.
    fx.transition_campaign(&p.id, "second", CampaignAction::Cancel, now + 52 * MIN)
        .await
        .unwrap();
    assert_eq!(
        fx.claim_recipient(&p.id, "second", "tok-d", now + 53 * MIN)
            .await
            .unwrap(),
        None
    );
    assert!(fx
        .record_send(&p.id, "second", &r2.person_id, &late, now + 53 * MIN)
        .await
        .unwrap());
    let counts = fx.campaign_counts(&p.id, "second", now).await.unwrap();
    assert_eq!(
        (counts.queued, counts.cancelled, counts.sent, counts.unknown),
        (0, 1, 1, 1),
        "{counts:?}"
    );

    // Direct: chosen ids (repeats and strangers ignored), sending at once.
    let direct = Campaign {
        kind: "direct".into(),
        segment: None,
        data: Some(r#"{"code":"X1"}"#.into()),
        ..draft("direct", "all")
    };
    let ids = vec![id("ana"), id("ana"), id("cy"), "nobody".into()];
    let c = fx
        .create_direct_campaign(&p.id, &direct, &ids, now)
        .await
        .unwrap();
    assert_eq!(
        (c.status.as_str(), c.recipients, c.skipped),
        ("sending", 2, 1)
    );
}

/// A push campaign's recipients: the contacts with at least one browser
/// subscription (address: the person id), the rest skipped `no_address`
/// (an in-app campaign's: every contact, by person id);
/// a push unsubscribe (by person id) skips; another project's
/// subscription on a same-named person does not count.
pub async fn push_campaign_recipients_are_subscribed_contacts(fx: Fixture) {
    use crate::push::NewPushSubscription;
    let p = fx.project("P").await;
    let other = fx.project("Other").await;
    let people = people(&fx, &p).await;
    fx.ingest(&other, [who("cy", json!({}))]).await;
    let id = |n: &str| id_of(&people, n);
    let sub = |person: String, endpoint: &str| NewPushSubscription {
        site_user_id: person,
        endpoint: endpoint.into(),
        p256dh: "key".into(),
        auth: "auth".into(),
        user_agent: None,
    };
    for (n, (person, endpoint)) in [
        (id("ana"), "https://push.example/a1"),
        (id("ana"), "https://push.example/a2"),
        (id("cy"), "https://push.example/c"),
        (id("fay"), "https://push.example/f"),
    ]
    .into_iter()
    .enumerate()
    {
        fx.upsert_push_subscription(&p.id, &format!("s{n}"), &sub(person, endpoint), T0)
            .await
            .unwrap();
    }
    let other_cy = fx.person_of(&other, "cy").await.id;
    fx.upsert_push_subscription(
        &other.id,
        "o1",
        &sub(other_cy, "https://push.example/o"),
        T0,
    )
    .await
    .unwrap();
    fx.add_unsubscribe(&p.id, "push", &id("fay"), Some(&id("fay")), None, T0)
        .await
        .unwrap();
    // An email unsubscribe does not stop push.
    fx.add_unsubscribe(&p.id, "email", "ana@example.com", None, None, T0)
        .await
        .unwrap();
    let mut c = draft("push", "all");
    c.channel = "push".into();
    c.content = Some(r#"{"push":{"title":"Hi","body":"Hello"}}"#.into());
    fx.create_campaign(&p.id, &c).await.unwrap();
    let now = T0 + MIN;
    let started = schedule_and_start(&fx, &p, "push", now).await;
    assert_eq!((started.recipients, started.skipped), (6, 4));
    let counts = fx.campaign_counts(&p.id, "push", now).await.unwrap();
    assert_eq!(
        (
            counts.skipped_no_address,
            counts.skipped_unsubscribed,
            counts.skipped_bounced
        ),
        (3, 1, 0)
    );
    let queued = fx
        .campaign_recipients(&p.id, "push", Some(RecipientStatus::Queued), None, 10)
        .await
        .unwrap();
    let mut got: Vec<_> = queued
        .iter()
        .map(|r| (r.person_id.clone(), r.address.clone()))
        .collect();
    got.sort();
    let mut want = vec![(id("ana"), Some(id("ana"))), (id("cy"), Some(id("cy")))];
    want.sort();
    assert_eq!(got, want);

    // In-app: every contact has the widget, the address is the person id.
    let mut c = draft("inapp", "all");
    c.channel = "in_app".into();
    fx.create_campaign(&p.id, &c).await.unwrap();
    let started = schedule_and_start(&fx, &p, "inapp", now).await;
    assert_eq!((started.recipients, started.skipped), (6, 0));
    let queued = fx
        .campaign_recipients(&p.id, "inapp", Some(RecipientStatus::Queued), None, 10)
        .await
        .unwrap();
    assert!(queued
        .iter()
        .all(|r| r.address.as_deref() == Some(r.person_id.as_str())));
}
