//! Campaign tracking (migration 0040): a recipient found by its token; an
//! open keeps the first time and counts every one (machine ones apart); a
//! click counts and implies an open; an unsubscribe is recorded once, into
//! `unsubscribes`; a later bounce marks the recipients sent since and a
//! hard one remembers the address; the stats from the recipient rows,
//! with the hourly series; nothing crosses projects.

use serde_json::json;

use super::fixture::*;
use super::T0;
use crate::campaigns::{Campaign, CampaignAction, SendOutcome};

const HOUR: i64 = 3_600_000;

pub async fn campaign_tracking_opens_clicks_unsubscribes_bounces_and_stats(fx: Fixture) {
    let p = fx.project("P").await;
    let other = fx.project("Other").await;
    let who = |n: &str, email: &str| {
        identify(n, &format!("s-{n}"), T0, &format!("user-{n}"))
            .with("traits", json!({ "email": email }))
    };
    fx.ingest(
        &p,
        [who("ana", "ana@example.com"), who("eve", "eve@example.com")],
    )
    .await;
    let c = Campaign {
        id: "t".into(),
        kind: "segment".into(),
        name: "T".into(),
        channel: "email".into(),
        template_id: None,
        content: Some(r#"{"subject":"Hi","body_text":"Hello"}"#.into()),
        data: None,
        segment: Some("all".into()),
        send_at: None,
        rate_per_minute: None,
        status: "draft".into(),
        recipients: 0,
        skipped: 0,
        error: None,
        created_by_account_id: None,
        created_at: T0,
        updated_at: T0,
        started_at: None,
        finished_at: None,
    };
    fx.create_campaign(&p.id, &c).await.unwrap();
    let now = T0 + HOUR;
    fx.transition_campaign(&p.id, "t", CampaignAction::Schedule, now)
        .await
        .unwrap();
    fx.start_campaign(&p.id, "t", now).await.unwrap();
    // Claim both, tokens by address.
    let mut tokens = std::collections::HashMap::new();
    for i in 0..2 {
        let r = fx
            .claim_recipient(&p.id, "t", &format!("tok-{i}"), now)
            .await
            .unwrap()
            .unwrap();
        let sent = SendOutcome::Sent {
            message_id: format!("<{i}@x>"),
        };
        fx.record_send(&p.id, "t", &r.person_id, &sent, now)
            .await
            .unwrap();
        tokens.insert(r.address.clone().unwrap(), (r.token, r.person_id));
    }
    let (ana, ana_id) = tokens["ana@example.com"].clone();
    let (eve, _) = tokens["eve@example.com"].clone();

    let r = fx.recipient_by_token(&ana).await.unwrap().unwrap();
    assert_eq!(
        (
            r.project_id.as_str(),
            r.campaign_id.as_str(),
            r.channel.as_str()
        ),
        (p.id.as_str(), "t", "email")
    );
    assert_eq!(r.sent_at, Some(now));
    assert!(fx.recipient_by_token("nope").await.unwrap().is_none());

    // Opens: the first time kept, each counted, machine ones apart.
    fx.record_open(&ana, now + 1_000, true)
        .await
        .unwrap()
        .unwrap();
    fx.record_open(&ana, now + HOUR, false)
        .await
        .unwrap()
        .unwrap();
    assert!(fx.record_open("nope", now, false).await.unwrap().is_none());
    let r = fx.recipient_by_token(&ana).await.unwrap().unwrap();
    assert_eq!(r.opened_at, Some(now + 1_000));
    // A click without an open: opened too; with one: only clicked.
    fx.record_click(&eve, "https://a.example/", now + HOUR)
        .await
        .unwrap()
        .unwrap();
    fx.record_click(&ana, "https://a.example/", now + HOUR)
        .await
        .unwrap()
        .unwrap();
    assert!(fx
        .record_click("nope", "https://a.example/", now)
        .await
        .unwrap()
        .is_none());

    // Unsubscribe once; the address is skipped by the project's later
    // campaigns (it is in `unsubscribes`); a second time changes nothing.
    assert_eq!(
        fx.unsubscribe_by_token(&ana, now + HOUR).await.unwrap(),
        Some(true)
    );
    assert_eq!(
        fx.unsubscribe_by_token(&ana, now + 2 * HOUR).await.unwrap(),
        Some(false)
    );
    assert_eq!(fx.unsubscribe_by_token("nope", now).await.unwrap(), None);
    let kinds: Vec<String> = fx
        .campaign_events(&p.id, "t", &ana_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["sent", "opened", "clicked", "opened", "unsubscribed"]
    );

    // A bounce reported later: eve's recipient, remembered when hard;
    // another project's address is untouched; a second report finds none.
    assert_eq!(
        fx.record_bounce(&other.id, "eve@example.com", true, "550", now, now + HOUR)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        fx.record_bounce(
            &p.id,
            " EVE@example.com",
            true,
            "550 no such user",
            now,
            now + HOUR
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        fx.record_bounce(&p.id, "eve@example.com", true, "550", now, now + HOUR)
            .await
            .unwrap(),
        0
    );
    assert!(fx
        .address_bounced(&p.id, "email", "eve@example.com")
        .await
        .unwrap());
    assert!(!fx
        .address_bounced(&other.id, "email", "eve@example.com")
        .await
        .unwrap());

    let s = fx.campaign_stats(&p.id, "t").await.unwrap();
    assert_eq!(
        (s.recipients, s.sent, s.delivered, s.bounced),
        (2, 2, 1, 1),
        "{s:?}"
    );
    assert_eq!(
        (s.opened, s.opened_machine_first, s.opens, s.machine_opens),
        (2, 1, 3, 1)
    );
    assert_eq!((s.clicked, s.clicks, s.unsubscribed), (2, 2, 1));
    let series: Vec<(i64, i64, i64, i64)> = s
        .series
        .iter()
        .map(|p| (p.at, p.sent, p.opened, p.clicked))
        .collect();
    let h = |t: i64| t / HOUR * HOUR;
    assert_eq!(series, [(h(now), 2, 1, 0), (h(now + HOUR), 0, 1, 2)]);
    let none = fx.campaign_stats(&other.id, "t").await.unwrap();
    assert_eq!((none.recipients, none.series.len()), (0, 0));
}
