//! Ingestion: people, sessions and events it writes, retries, leaving and
//! expiry, the live feed's presence reads, merges of identified people.

use serde_json::{json, Value};
use vibe_core::Message;

use super::fixture::*;
use super::T0;
use crate::*;

pub async fn ingest_creates_people_and_sessions(fx: Fixture) {
    let p = fx.project("Site").await;
    let out = fx
        .ingest(
            &p,
            [
                pageview("anon-1", "s1", T0, "https://x.io/")
                    .with("referrer", "https://google.com/")
                    .with("device", "mobile")
                    .with("browser", "Safari")
                    .with("os", "iOS"),
                pageview("anon-1", "s1", T0 + 5_000, "https://x.io/pricing")
                    .with("title", "Pricing"),
                event("anon-1", "s1", T0 + 6_000, "signup_click")
                    .with("props", json!({"plan": "pro"})),
                heartbeat("anon-1", "s1", T0 + 30_000),
            ],
        )
        .await;
    assert_eq!(
        out,
        vec![IngestOutcome {
            accepted: 4,
            duplicates: 0
        }]
    );
    assert_eq!(
        fx.count_events(&p.id).await.unwrap(),
        3,
        "heartbeats are not stored as events"
    );

    let s = fx.session_of(&p, "s1").await;
    assert_eq!(
        (s.started_at, s.last_seen_at, s.ended_at, s.page_count),
        (T0, T0 + 30_000, None, 2)
    );
    assert_eq!(s.entry_url.as_deref(), Some("https://x.io/"));
    assert_eq!(s.current_path.as_deref(), Some("/pricing"));
    assert_eq!(s.page_entered_at, Some(T0 + 5_000));
    assert_eq!(s.referrer.as_deref(), Some("https://google.com/"));
    assert_eq!(s.client.device.as_deref(), Some("mobile"));

    let u = fx.person_of(&p, "anon-1").await;
    assert_eq!(
        (u.first_seen, u.last_seen, u.event_count),
        (T0, T0 + 30_000, 3)
    );

    let online = fx.online_visitors(&p.id, T0).await.unwrap();
    assert_eq!(online.len(), 1);
    assert_eq!(online[0].current_page.title.as_deref(), Some("Pricing"));
    assert!(fx
        .online_visitors(&p.id, T0 + 30_001)
        .await
        .unwrap()
        .is_empty());

    let events = fx.events_for_session(&p.id, "s1").await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["pageview", "pageview", "event"]);
    let recent: Vec<String> = fx
        .recent_events(&p.id, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(recent, ["event", "pageview"]);
    let props: Value = serde_json::from_str(events[2].props.as_deref().unwrap()).unwrap();
    assert_eq!(props, json!({"plan": "pro"}));

    // A later batch moves the current page forward but never backward.
    fx.ingest(
        &p,
        [pageview("anon-1", "s1", T0 + 1_000, "https://x.io/old")],
    )
    .await;
    let s = fx.session_of(&p, "s1").await;
    assert_eq!(
        (s.current_path.as_deref(), s.page_count),
        (Some("/pricing"), 3)
    );
}

/// A later batch may carry earlier messages (a retried tracker queue, a backend
/// import): the stored person and session keep the earliest start and the
/// latest sighting, whichever batch brought them. These are the conflict
/// branches of the people and session upserts (`CASE WHEN`, written once for
/// both backends instead of `min`/`LEAST`).
pub async fn late_batches_keep_earliest_and_latest(fx: Fixture) {
    let p = fx.project("Site").await;
    let seen = |u: SiteUser| (u.first_seen, u.last_seen);
    let span = |s: SiteSession| (s.started_at, s.last_seen_at, s.page_count);
    fx.ingest(&p, [pageview("a", "s", T0 + 10_000, "https://x.io/b")])
        .await;
    // Only earlier: the start moves back, the last sighting stays.
    fx.ingest(&p, [pageview("a", "s", T0, "https://x.io/a")])
        .await;
    assert_eq!(seen(fx.person_of(&p, "a").await), (T0, T0 + 10_000));
    let s = fx.session_of(&p, "s").await;
    // The newest page stays current even though the earlier one came last.
    assert_eq!(s.current_path.as_deref(), Some("/b"));
    assert_eq!(span(s), (T0, T0 + 10_000, 2));
    // Equal to what is stored: nothing moves.
    fx.ingest(&p, [heartbeat("a", "s", T0 + 10_000)]).await;
    assert_eq!(seen(fx.person_of(&p, "a").await), (T0, T0 + 10_000));
    assert_eq!(span(fx.session_of(&p, "s").await), (T0, T0 + 10_000, 2));
    // Later: the last sighting moves on, the start stays.
    fx.ingest(&p, [heartbeat("a", "s", T0 + 20_000)]).await;
    assert_eq!(seen(fx.person_of(&p, "a").await), (T0, T0 + 20_000));
    assert_eq!(span(fx.session_of(&p, "s").await), (T0, T0 + 20_000, 2));
}

pub async fn ingest_is_idempotent(fx: Fixture) {
    let p = fx.project("Site").await;
    let batch: Vec<Message> = vec![
        pageview("a", "s", T0, "/").into(),
        event("a", "s", T0 + 1, "x").into(),
    ];
    let first = fx.ingest(&p, batch.clone()).await;
    assert_eq!(
        first[0],
        IngestOutcome {
            accepted: 2,
            duplicates: 0
        }
    );
    // The same ids again, also twice within one batch of two requests.
    let again = fx
        .ingest_jobs(&[job(&p, batch.clone()), job(&p, batch.clone())])
        .await;
    assert_eq!(
        again,
        vec![
            IngestOutcome {
                accepted: 0,
                duplicates: 2
            };
            2
        ]
    );
    assert_eq!(fx.count_events(&p.id).await.unwrap(), 2);
    let s = fx.session_of(&p, "s").await;
    assert_eq!(s.page_count, 1, "a retried page view is not counted twice");
    assert_eq!(fx.person(&p, "a").await.event_count, 2);
}

/// A visitor whose anonymous id is also its session id.
fn visit(sid: &str, ts: i64, url: &str) -> Msg {
    pageview(sid, sid, ts, url)
}

pub async fn leave_heartbeat_and_expiry(fx: Fixture) {
    let p = fx.project("Site").await;
    fx.ingest(&p, [visit("s1", T0, "/"), visit("s2", T0, "/")])
        .await;
    fx.ingest(&p, [leave("s1", "s1", T0 + 10)]).await;
    let online: Vec<String> = fx
        .online_visitors(&p.id, T0)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.session_id)
        .collect();
    assert_eq!(online, ["s2"]);
    assert_eq!(fx.session_of(&p, "s1").await.ended_at, Some(T0 + 10));

    // Coming back on the same session reopens it.
    fx.ingest(&p, [visit("s1", T0 + 20, "/")]).await;
    assert_eq!(fx.session_of(&p, "s1").await.ended_at, None);

    // Heartbeats keep s2 alive; s1 goes idle and expires.
    fx.ingest(&p, [heartbeat("s2", "s2", T0 + 60_000)]).await;
    assert_eq!(fx.expire_sessions(T0 + 30_000).await.unwrap(), 1);
    assert_eq!(fx.session_of(&p, "s1").await.ended_at, Some(T0 + 20));
    assert_eq!(fx.session_of(&p, "s2").await.ended_at, None);
}

pub async fn live_feed_lookups(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
    let pv = |sid: &str, ts: i64| visit(sid, ts, "/x").into();
    fx.ingest_jobs(&[
        job(&p, vec![pv("s1", T0), pv("s2", T0 + 1000), pv("s3", T0)]),
        job(&other, vec![pv("s1", T0)]),
    ])
    .await;
    fx.ingest(&p, [leave("s3", "s3", T0 + 10)]).await;
    let ids = |v: Vec<OnlineVisitor>| {
        let mut ids: Vec<String> = v.into_iter().map(|v| v.session_id).collect();
        ids.sort();
        ids
    };
    let wanted = ["s1".to_owned(), "s3".to_owned(), "nope".to_owned()];
    // s3 left; s2 was not asked for.
    let got = fx.online_visitors_in(&p.id, T0, &wanted).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].current_page.path.as_deref(), Some("/x"));
    assert_eq!(ids(got), ["s1"]);
    assert!(fx
        .online_visitors_in(&p.id, T0 + 1, &wanted)
        .await
        .unwrap()
        .is_empty());
    assert!(fx
        .online_visitors_in(&p.id, T0, &[])
        .await
        .unwrap()
        .is_empty());
    let mut quiet = fx
        .sessions_last_seen_between(&p.id, T0, T0 + 1000)
        .await
        .unwrap();
    quiet.sort();
    assert_eq!(quiet, ["s1", "s3"]);
    assert_eq!(
        fx.sessions_last_seen_between(&p.id, T0 + 1000, T0 + 1001)
            .await
            .unwrap(),
        ["s2"]
    );
}

pub async fn identify_merges_anonymous_person(fx: Fixture) {
    let p = fx.project("Site").await;
    // Known user from a first device.
    fx.ingest(
        &p,
        [
            pageview("dev1", "d1", T0, "/"),
            identify("dev1", "d1", T0 + 1, "u-42").with(
                "traits",
                json!({"email": "ada@example.com", "plan": "trial"}),
            ),
        ],
    )
    .await;
    let u = fx.person_of(&p, "dev1").await;
    assert_eq!(
        (
            u.identity.user_id.as_deref(),
            u.identity.email.as_deref(),
            u.plan.as_deref()
        ),
        (Some("u-42"), Some("ada@example.com"), Some("trial"))
    );

    // The same user browses anonymously on a second device, then signs in there.
    fx.ingest(&p, [pageview("dev2", "d2", T0 + 100, "/pricing")])
        .await;
    assert_ne!(fx.person_of(&p, "dev2").await.id, u.id);
    fx.ingest(
        &p,
        [identify("dev2", "d2", T0 + 200, "u-42")
            .with("traits", json!({"plan": "premium", "name": "Ada"}))],
    )
    .await;
    let merged = fx.person_of(&p, "dev2").await;
    assert_eq!(
        merged.id, u.id,
        "the anonymous person was merged into the user"
    );
    assert_eq!(merged.first_seen, T0);
    assert_eq!(merged.event_count, 4);
    assert_eq!(
        (merged.plan.as_deref(), merged.identity.name.as_deref()),
        (Some("premium"), Some("Ada"))
    );
    let traits: Value = serde_json::from_str(&merged.traits).unwrap();
    assert_eq!(
        traits,
        json!({"email":"ada@example.com","plan":"premium","name":"Ada"})
    );
    assert_eq!(fx.session_of(&p, "d2").await.site_user_id, u.id);
    assert!(fx.site_user(&p.id, "dev2").await.unwrap().is_none());
    let online = fx.online_visitors(&p.id, T0).await.unwrap();
    assert!(online
        .iter()
        .all(|v| v.identity.user_id.as_deref() == Some("u-42")));

    // Server-side messages with only a user id land on the same person.
    fx.ingest(&p, [server_event("u-42", T0 + 300, "invoice_paid")])
        .await;
    assert_eq!(fx.person(&p, &u.id).await.event_count, 5);
    // A brand-new server-side user gets a person of their own.
    fx.ingest(&p, [server_event("u-7", T0 + 300, "import")])
        .await;
    assert_eq!(
        fx.person(&p, "uid:u-7").await.identity.user_id.as_deref(),
        Some("u-7")
    );
}

pub async fn projects_are_isolated(fx: Fixture) {
    let a = fx.project("A").await;
    let b = fx.project("B").await;
    let m: Message = pageview("same", "same", T0, "/a").into();
    // The same message id in two projects is two different events.
    let out = fx
        .ingest_jobs(&[job(&a, vec![m.clone()]), job(&b, vec![m])])
        .await;
    assert_eq!(
        out,
        vec![
            IngestOutcome {
                accepted: 1,
                duplicates: 0
            };
            2
        ]
    );
    fx.ingest(&a, [identify("same", "same", T0 + 1, "u1")])
        .await;
    assert_eq!(
        fx.person(&a, "same").await.identity.user_id.as_deref(),
        Some("u1")
    );
    assert_eq!(fx.person(&b, "same").await.identity.user_id, None);
    assert_eq!(fx.count_events(&a.id).await.unwrap(), 2);
    assert_eq!(fx.count_events(&b.id).await.unwrap(), 1);
    assert_eq!(fx.online_visitors(&b.id, T0).await.unwrap().len(), 1);
}

/// `site_users.session_count` (what segments read) equals the person's stored
/// sessions: new sessions add once (retries and later messages of a session
/// do not), a merge adds the merged person's, and a rebuild recounts to the
/// same numbers.
pub async fn session_counts_follow_sessions_and_merges(fx: Fixture) {
    let p = fx.project("Site").await;
    let first: Vec<Msg> = vec![
        pageview("a", "a1", T0, "/"),
        pageview("a", "a1", T0 + 1_000, "/pricing"),
        pageview("a", "a2", T0 + 2_000, "/"),
        pageview("b", "b1", T0 + 3_000, "/"),
    ];
    fx.ingest(&p, first.clone()).await;
    // A retry and a later message of a known session add nothing.
    fx.ingest(&p, first).await;
    fx.ingest(&p, [pageview("b", "b1", T0 + 4_000, "/docs")])
        .await;
    let before = session_counts(&fx, &p.id).await;
    assert_eq!(
        before.iter().map(|r| r.1).sum::<i64>(),
        3,
        "three sessions: {before:?}"
    );
    assert!(before.iter().all(|(_, kept, stored)| kept == stored));

    // Both sign in as one user: one person with every session.
    fx.ingest(
        &p,
        [
            identify("a", "a2", T0 + 5_000, "u-1"),
            identify("b", "b2", T0 + 6_000, "u-1"),
        ],
    )
    .await;
    let merged = session_counts(&fx, &p.id).await;
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!((merged[0].1, merged[0].2), (4, 4));

    let day = vibe_core::day::parse_day("2027-01-15").unwrap();
    fx.db()
        .execute("UPDATE site_users SET session_count = 0", ())
        .await
        .unwrap();
    rollup::rebuild(&*fx, &p, day, day).await.unwrap();
    assert_eq!(session_counts(&fx, &p.id).await, merged);
}

/// Each person: kept session count, stored sessions.
async fn session_counts(fx: &Fixture, project_id: &str) -> Vec<(String, i64, i64)> {
    fx.db()
        .all(
            "SELECT su.id, su.session_count, (SELECT COUNT(*) FROM site_sessions s
               WHERE s.project_id = su.project_id AND s.site_user_id = su.id)
             FROM site_users su WHERE su.project_id = $1 ORDER BY su.id",
            (project_id,),
        )
        .await
        .unwrap()
}
