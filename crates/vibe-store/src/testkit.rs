//! The conformance suite: every backend runs these same cases against a fresh
//! database each, so SQLite and PostgreSQL cannot drift apart.

use std::future::Future;
use std::sync::Arc;

use serde_json::{json, Value};
use vibe_core::message::TimestampPolicy;
use vibe_core::Message;

use crate::*;

mod funnel_build;
mod funnel_rollup;
pub mod schema;
mod security;

pub const T0: i64 = 1_800_000_000_000;

/// Runs every case; `fresh` must return a store over an empty database.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    accounts_and_sessions(fresh().await).await;
    api_tokens(fresh().await).await;
    projects_and_membership(fresh().await).await;
    ingest_creates_people_and_sessions(fresh().await).await;
    ingest_is_idempotent(fresh().await).await;
    leave_heartbeat_and_expiry(fresh().await).await;
    live_feed_lookups(fresh().await).await;
    identify_merges_anonymous_person(fresh().await).await;
    projects_are_isolated(fresh().await).await;
    rollups_follow_ingest(fresh().await).await;
    rollups_follow_merges(fresh().await).await;
    rebuild_matches_incremental(fresh().await).await;
    segments_search_and_pagination(fresh().await).await;
    profiles_and_session_history(fresh().await).await;
    funnels_store_and_match_events(fresh().await).await;
    funnel_rollup::funnel_rollup_matches_query_time(fresh().await).await;
    security::setup_token_is_single_use(fresh().await).await;
    security::concurrent_setup_claims_have_one_winner(fresh().await).await;
    security::auth_sessions_are_purged_and_signed_out_everywhere(fresh().await).await;
    security::identity_verification_settings(fresh().await).await;
    funnel_build::chunked_build_matches_query_time(fresh().await).await;
}

fn account(email: &str, role: Role) -> NewAccount {
    NewAccount {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.into(),
        password_hash: "$argon2id$fake".into(),
        role,
        created_at: T0,
    }
}

pub fn new_project(name: &str) -> NewProject {
    let id = uuid::Uuid::new_v4().to_string();
    NewProject {
        write_key: format!("wk_{}", id.replace('-', "")),
        id,
        name: name.into(),
        allowed_origins: vec![],
        timezone: "UTC".into(),
        online_window_s: 300,
        created_at: T0,
    }
}

pub fn msg(v: Value) -> Message {
    let mut v = v;
    if v.get("id").is_none() {
        v["id"] = json!(uuid::Uuid::new_v4().to_string());
    }
    Message::parse(
        &v,
        "m",
        T0 + 30 * 86_400_000,
        TimestampPolicy::AllowHistorical,
    )
    .expect("valid test message")
}

fn job(project: &Project, messages: Vec<Message>) -> IngestJob {
    IngestJob {
        project_id: project.id.clone(),
        timezone: project.timezone.clone(),
        messages,
        received_at: T0,
    }
}

async fn accounts_and_sessions(store: Arc<dyn Store>) {
    let a = store
        .create_account(&account("ada@example.com", Role::Owner))
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_account(&account("ada@example.com", Role::Viewer))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = store
        .account_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account, a);
    assert_eq!(found.password_hash, "$argon2id$fake");
    assert!(store
        .account_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(store.count_owners().await.unwrap(), 1);

    let s = NewAuthSession {
        token_hash: "h1".into(),
        account_id: a.id.clone(),
        created_at: T0,
        expires_at: T0 + 1000,
    };
    store.create_auth_session(&s).await.unwrap();
    assert_eq!(
        store.account_for_session("h1", T0).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.account_for_session("h1", T0 + 1000).await.unwrap(),
        None,
        "expired"
    );
    store.delete_auth_session("h1").await.unwrap();
    assert_eq!(store.account_for_session("h1", T0).await.unwrap(), None);
}

async fn api_tokens(store: Arc<dyn Store>) {
    let a = store
        .create_account(&account("a@example.com", Role::Owner))
        .await
        .unwrap();
    let b = store
        .create_account(&account("b@example.com", Role::Viewer))
        .await
        .unwrap();
    let t = NewApiToken {
        id: "t1".into(),
        account_id: a.id.clone(),
        name: "ci".into(),
        token_hash: "th".into(),
        prefix: "vbt_abcd".into(),
        created_at: T0,
    };
    store.create_api_token(&t).await.unwrap();
    assert_eq!(
        store.account_for_api_token("th", T0).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.list_api_tokens(&a.id).await.unwrap()[0].last_used_at,
        Some(T0)
    );
    assert!(store.list_api_tokens(&b.id).await.unwrap().is_empty());
    assert!(matches!(
        store.revoke_api_token(&b.id, "t1", T0).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_api_token(&a.id, "t1", T0).await.unwrap();
    assert_eq!(store.account_for_api_token("th", T0).await.unwrap(), None);
}

async fn projects_and_membership(store: Arc<dyn Store>) {
    let a = store
        .create_account(&account("a@example.com", Role::Owner))
        .await
        .unwrap();
    let b = store
        .create_account(&account("b@example.com", Role::Viewer))
        .await
        .unwrap();
    let mut np = new_project("Shop");
    np.allowed_origins = vec!["https://shop.example".into()];
    let p = store.create_project(&np, Some(&a.id)).await.unwrap();
    assert_eq!(p.allowed_origins, vec!["https://shop.example".to_string()]);
    assert_eq!(
        store.projects_for_account(&a.id).await.unwrap(),
        vec![p.clone()]
    );
    assert!(store.projects_for_account(&b.id).await.unwrap().is_empty());
    assert_eq!(
        store.project_for_member(&p.id, &a.id).await.unwrap(),
        Some((p.clone(), Role::Owner))
    );
    assert_eq!(store.project_for_member(&p.id, &b.id).await.unwrap(), None);
    store
        .add_member(&p.id, &b.id, Role::Viewer, T0)
        .await
        .unwrap();
    assert_eq!(
        store.project_for_member(&p.id, &b.id).await.unwrap(),
        Some((p.clone(), Role::Viewer))
    );
    assert_eq!(
        store.project_by_write_key(&p.write_key).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(store.project_by_write_key("wk_nope").await.unwrap(), None);
    assert_eq!(store.list_projects().await.unwrap().len(), 1);
    let changed = store
        .update_project(
            &p.id,
            &ProjectChanges {
                name: Some("Shop NL".into()),
                online_window_s: Some(120),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.name.as_str(),
            changed.online_window_s,
            changed.timezone.as_str()
        ),
        ("Shop NL", 120, "UTC")
    );
    assert_eq!(
        changed.allowed_origins, p.allowed_origins,
        "unchanged fields stay"
    );
    let changed = store
        .update_project(
            &p.id,
            &ProjectChanges {
                allowed_origins: Some(vec![]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(changed.allowed_origins.is_empty());
    assert!(matches!(
        store
            .update_project("nope", &ProjectChanges::default())
            .await,
        Err(StoreError::NotFound)
    ));
    let p = changed;

    let k = NewProjectKey {
        id: "k1".into(),
        project_id: p.id.clone(),
        name: "backend".into(),
        key_hash: "kh".into(),
        prefix: "sk_1234".into(),
        created_at: T0,
    };
    store.create_project_key(&k).await.unwrap();
    assert_eq!(
        store.project_by_secret_key("kh").await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(store.list_project_keys(&p.id).await.unwrap().len(), 1);
    let other = store
        .create_project(&new_project("Other"), Some(&b.id))
        .await
        .unwrap();
    assert!(matches!(
        store.revoke_project_key(&other.id, "k1", T0).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_project_key(&p.id, "k1", T0).await.unwrap();
    assert_eq!(store.project_by_secret_key("kh").await.unwrap(), None);
}

async fn ingest_creates_people_and_sessions(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let out = store
        .ingest(&[job(&p, vec![
            msg(json!({"type":"pageview","anonymous_id":"anon-1","session_id":"s1","ts":T0,"url":"https://x.io/","referrer":"https://google.com/","device":"mobile","browser":"Safari","os":"iOS"})),
            msg(json!({"type":"pageview","anonymous_id":"anon-1","session_id":"s1","ts":T0+5_000,"url":"https://x.io/pricing","title":"Pricing"})),
            msg(json!({"type":"event","anonymous_id":"anon-1","session_id":"s1","ts":T0+6_000,"name":"signup_click","props":{"plan":"pro"}})),
            msg(json!({"type":"heartbeat","anonymous_id":"anon-1","session_id":"s1","ts":T0+30_000})),
        ])])
        .await
        .unwrap();
    assert_eq!(
        out,
        vec![IngestOutcome {
            accepted: 4,
            duplicates: 0
        }]
    );
    assert_eq!(
        store.count_events(&p.id).await.unwrap(),
        3,
        "heartbeats are not stored as events"
    );

    let s = store.session(&p.id, "s1").await.unwrap().unwrap();
    assert_eq!(
        (s.started_at, s.last_seen_at, s.ended_at, s.page_count),
        (T0, T0 + 30_000, None, 2)
    );
    assert_eq!(s.entry_url.as_deref(), Some("https://x.io/"));
    assert_eq!(s.current_path.as_deref(), Some("/pricing"));
    assert_eq!(s.page_entered_at, Some(T0 + 5_000));
    assert_eq!(s.referrer.as_deref(), Some("https://google.com/"));
    assert_eq!(s.device.as_deref(), Some("mobile"));

    let u = store
        .site_user_for_anonymous_id(&p.id, "anon-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.first_seen, u.last_seen, u.event_count),
        (T0, T0 + 30_000, 3)
    );

    let online = store.online_visitors(&p.id, T0).await.unwrap();
    assert_eq!(online.len(), 1);
    assert_eq!(online[0].current_title.as_deref(), Some("Pricing"));
    assert!(store
        .online_visitors(&p.id, T0 + 30_001)
        .await
        .unwrap()
        .is_empty());

    let events = store.events_for_session(&p.id, "s1").await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["pageview", "pageview", "event"]);
    let recent: Vec<String> = store
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
    store
        .ingest(&[job(&p, vec![msg(json!({"type":"pageview","anonymous_id":"anon-1","session_id":"s1","ts":T0+1_000,"url":"https://x.io/old"}))])])
        .await
        .unwrap();
    let s = store.session(&p.id, "s1").await.unwrap().unwrap();
    assert_eq!(
        (s.current_path.as_deref(), s.page_count),
        (Some("/pricing"), 3)
    );
}

async fn ingest_is_idempotent(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let batch = vec![
        msg(json!({"type":"pageview","anonymous_id":"a","session_id":"s","ts":T0,"url":"/"})),
        msg(json!({"type":"event","anonymous_id":"a","session_id":"s","ts":T0+1,"name":"x"})),
    ];
    let first = store.ingest(&[job(&p, batch.clone())]).await.unwrap();
    assert_eq!(
        first[0],
        IngestOutcome {
            accepted: 2,
            duplicates: 0
        }
    );
    // The same ids again, also twice within one batch of two requests.
    let again = store
        .ingest(&[job(&p, batch.clone()), job(&p, batch.clone())])
        .await
        .unwrap();
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
    assert_eq!(store.count_events(&p.id).await.unwrap(), 2);
    let s = store.session(&p.id, "s").await.unwrap().unwrap();
    assert_eq!(s.page_count, 1, "a retried page view is not counted twice");
    let u = store.site_user(&p.id, "a").await.unwrap().unwrap();
    assert_eq!(u.event_count, 2);
}

async fn leave_heartbeat_and_expiry(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let pv = |sid: &str, ts: i64| {
        msg(json!({"type":"pageview","anonymous_id":sid,"session_id":sid,"ts":ts,"url":"/"}))
    };
    store
        .ingest(&[job(&p, vec![pv("s1", T0), pv("s2", T0)])])
        .await
        .unwrap();
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"leave","anonymous_id":"s1","session_id":"s1","ts":T0+10}),
            )],
        )])
        .await
        .unwrap();
    let online: Vec<String> = store
        .online_visitors(&p.id, T0)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.session_id)
        .collect();
    assert_eq!(online, ["s2"]);
    assert_eq!(
        store.session(&p.id, "s1").await.unwrap().unwrap().ended_at,
        Some(T0 + 10)
    );

    // Coming back on the same session reopens it.
    store
        .ingest(&[job(&p, vec![pv("s1", T0 + 20)])])
        .await
        .unwrap();
    assert_eq!(
        store.session(&p.id, "s1").await.unwrap().unwrap().ended_at,
        None
    );

    // Heartbeats keep s2 alive; s1 goes idle and expires.
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"heartbeat","anonymous_id":"s2","session_id":"s2","ts":T0+60_000}),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(store.expire_sessions(T0 + 30_000).await.unwrap(), 1);
    let s1 = store.session(&p.id, "s1").await.unwrap().unwrap();
    assert_eq!(s1.ended_at, Some(T0 + 20));
    assert_eq!(
        store.session(&p.id, "s2").await.unwrap().unwrap().ended_at,
        None
    );
}

async fn live_feed_lookups(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let other = store
        .create_project(&new_project("Other"), None)
        .await
        .unwrap();
    let pv = |sid: &str, ts: i64| {
        msg(json!({"type":"pageview","anonymous_id":sid,"session_id":sid,"ts":ts,"url":"/x"}))
    };
    store
        .ingest(&[
            job(&p, vec![pv("s1", T0), pv("s2", T0 + 1000), pv("s3", T0)]),
            job(&other, vec![pv("s1", T0)]),
        ])
        .await
        .unwrap();
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"leave","anonymous_id":"s3","session_id":"s3","ts":T0+10}),
            )],
        )])
        .await
        .unwrap();
    let ids = |v: Vec<OnlineVisitor>| {
        let mut ids: Vec<String> = v.into_iter().map(|v| v.session_id).collect();
        ids.sort();
        ids
    };
    let wanted = ["s1".to_owned(), "s3".to_owned(), "nope".to_owned()];
    // s3 left; s2 was not asked for.
    let got = store.online_visitors_in(&p.id, T0, &wanted).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].current_path.as_deref(), Some("/x"));
    assert_eq!(ids(got), ["s1"]);
    assert!(store
        .online_visitors_in(&p.id, T0 + 1, &wanted)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .online_visitors_in(&p.id, T0, &[])
        .await
        .unwrap()
        .is_empty());
    let mut quiet = store
        .sessions_last_seen_between(&p.id, T0, T0 + 1000)
        .await
        .unwrap();
    quiet.sort();
    assert_eq!(quiet, ["s1", "s3"]);
    assert_eq!(
        store
            .sessions_last_seen_between(&p.id, T0 + 1000, T0 + 1001)
            .await
            .unwrap(),
        ["s2"]
    );
}

async fn identify_merges_anonymous_person(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    // Known user from a first device.
    store
        .ingest(&[job(&p, vec![
            msg(json!({"type":"pageview","anonymous_id":"dev1","session_id":"d1","ts":T0,"url":"/"})),
            msg(json!({"type":"identify","anonymous_id":"dev1","session_id":"d1","ts":T0+1,"user_id":"u-42","traits":{"email":"ada@example.com","plan":"trial"}})),
        ])])
        .await
        .unwrap();
    let u = store
        .site_user_for_anonymous_id(&p.id, "dev1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.user_id.as_deref(), u.email.as_deref(), u.plan.as_deref()),
        (Some("u-42"), Some("ada@example.com"), Some("trial"))
    );

    // The same user browses anonymously on a second device, then signs in there.
    store
        .ingest(&[job(&p, vec![msg(json!({"type":"pageview","anonymous_id":"dev2","session_id":"d2","ts":T0+100,"url":"/pricing"}))])])
        .await
        .unwrap();
    assert_ne!(
        store
            .site_user_for_anonymous_id(&p.id, "dev2")
            .await
            .unwrap()
            .unwrap()
            .id,
        u.id
    );
    store
        .ingest(&[job(&p, vec![msg(json!({"type":"identify","anonymous_id":"dev2","session_id":"d2","ts":T0+200,"user_id":"u-42","traits":{"plan":"premium","name":"Ada"}}))])])
        .await
        .unwrap();
    let merged = store
        .site_user_for_anonymous_id(&p.id, "dev2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        merged.id, u.id,
        "the anonymous person was merged into the user"
    );
    assert_eq!(merged.first_seen, T0);
    assert_eq!(merged.event_count, 4);
    assert_eq!(
        (merged.plan.as_deref(), merged.name.as_deref()),
        (Some("premium"), Some("Ada"))
    );
    let traits: Value = serde_json::from_str(&merged.traits).unwrap();
    assert_eq!(
        traits,
        json!({"email":"ada@example.com","plan":"premium","name":"Ada"})
    );
    assert_eq!(
        store
            .session(&p.id, "d2")
            .await
            .unwrap()
            .unwrap()
            .site_user_id,
        u.id
    );
    assert!(store.site_user(&p.id, "dev2").await.unwrap().is_none());
    let online = store.online_visitors(&p.id, T0).await.unwrap();
    assert!(online.iter().all(|v| v.user_id.as_deref() == Some("u-42")));

    // Server-side messages with only a user id land on the same person.
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"event","user_id":"u-42","ts":T0+300,"name":"invoice_paid"}),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(
        store
            .site_user(&p.id, &u.id)
            .await
            .unwrap()
            .unwrap()
            .event_count,
        5
    );
    // A brand-new server-side user gets a person of their own.
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"event","user_id":"u-7","ts":T0+300,"name":"import"}),
            )],
        )])
        .await
        .unwrap();
    assert_eq!(
        store
            .site_user(&p.id, "uid:u-7")
            .await
            .unwrap()
            .unwrap()
            .user_id
            .as_deref(),
        Some("u-7")
    );
}

async fn projects_are_isolated(store: Arc<dyn Store>) {
    let a = store.create_project(&new_project("A"), None).await.unwrap();
    let b = store.create_project(&new_project("B"), None).await.unwrap();
    let m = msg(
        json!({"type":"pageview","anonymous_id":"same","session_id":"same","ts":T0,"url":"/a"}),
    );
    // The same message id in two projects is two different events.
    let out = store
        .ingest(&[job(&a, vec![m.clone()]), job(&b, vec![m])])
        .await
        .unwrap();
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
    store
        .ingest(&[job(&a, vec![msg(json!({"type":"identify","anonymous_id":"same","session_id":"same","ts":T0+1,"user_id":"u1"}))])])
        .await
        .unwrap();
    assert_eq!(
        store
            .site_user(&a.id, "same")
            .await
            .unwrap()
            .unwrap()
            .user_id
            .as_deref(),
        Some("u1")
    );
    assert_eq!(
        store
            .site_user(&b.id, "same")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        None
    );
    assert_eq!(store.count_events(&a.id).await.unwrap(), 2);
    assert_eq!(store.count_events(&b.id).await.unwrap(), 1);
    assert_eq!(store.online_visitors(&b.id, T0).await.unwrap().len(), 1);
}

fn day(store_rows: &[rollup::DailyStats], day: &str) -> rollup::DailyStats {
    store_rows
        .iter()
        .find(|r| r.day == day)
        .cloned()
        .unwrap_or_default()
}

async fn rollups_follow_ingest(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    // T0 is 2027-01-15 08:00 UTC.
    let d0 = "2027-01-15";
    let pv = |anon: &str, sid: &str, ts: i64| {
        msg(json!({"type":"pageview","anonymous_id":anon,"session_id":sid,"ts":ts,"url":"/"}))
    };
    store
        .ingest(&[job(&p, vec![
            pv("a", "a1", T0),
            pv("a", "a1", T0 + 60_000),
            msg(json!({"type":"event","anonymous_id":"a","session_id":"a1","ts":T0+90_000,"name":"signup"})),
            pv("b", "b1", T0 + 1000),
        ])])
        .await
        .unwrap();
    // A heartbeat extends a's session; b's stays a single page view (a bounce).
    store
        .ingest(&[job(
            &p,
            vec![msg(
                json!({"type":"heartbeat","anonymous_id":"a","session_id":"a1","ts":T0+120_000}),
            )],
        )])
        .await
        .unwrap();
    let rows = store.daily_stats(&p.id, d0, d0).await.unwrap();
    let r = day(&rows, d0);
    assert_eq!(
        (
            r.active_users,
            r.new_users,
            r.sessions,
            r.pageviews,
            r.events
        ),
        (2, 2, 2, 3, 1)
    );
    assert_eq!((r.session_ms, r.bounces), (120_000, 1));

    // The next day: a returns (active again, not new); c is new.
    let next = T0 + 86_400_000;
    store
        .ingest(&[job(&p, vec![pv("a", "a2", next), pv("c", "c1", next)])])
        .await
        .unwrap();
    let rows = store.daily_stats(&p.id, d0, "2027-01-16").await.unwrap();
    let r = day(&rows, "2027-01-16");
    assert_eq!(
        (r.active_users, r.new_users, r.sessions, r.bounces),
        (2, 1, 2, 2)
    );
    assert_eq!(day(&rows, d0).active_users, 2, "earlier days are untouched");
    assert_eq!(store.user_days(&p.id).await.unwrap().len(), 4);

    // Retries change nothing.
    let m = pv("d", "d1", next + 5);
    store.ingest(&[job(&p, vec![m.clone()])]).await.unwrap();
    store.ingest(&[job(&p, vec![m])]).await.unwrap();
    let r = day(
        &store
            .daily_stats(&p.id, "2027-01-16", "2027-01-16")
            .await
            .unwrap(),
        "2027-01-16",
    );
    assert_eq!((r.active_users, r.new_users, r.pageviews), (3, 2, 3));

    // Days are local: 23:30 UTC is the next day in Amsterdam.
    let mut np = new_project("NL");
    np.timezone = "Europe/Amsterdam".into();
    let nl = store.create_project(&np, None).await.unwrap();
    let late = T0 + 15 * 3_600_000 + 30 * 60_000;
    store
        .ingest(&[job(&nl, vec![pv("x", "x1", late)])])
        .await
        .unwrap();
    let rows = store.daily_stats(&nl.id, d0, "2027-01-16").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.day.as_str()).collect::<Vec<_>>(),
        ["2027-01-16"]
    );

    // Online counts, now and at a past moment.
    assert_eq!(store.count_online(&p.id, next).await.unwrap(), 3);
    assert_eq!(
        store.online_at(&p.id, T0 + 100_000, 300_000).await.unwrap(),
        2
    );
    assert_eq!(
        store
            .online_at(&p.id, T0 + 1_000_000, 300_000)
            .await
            .unwrap(),
        0
    );

    // Churn: a and b active on day 0; only a came back on day 1.
    assert_eq!(
        store
            .churn_counts(&p.id, (d0, d0), ("2027-01-16", "2027-01-16"))
            .await
            .unwrap(),
        (2, 1)
    );
    assert_eq!(
        store
            .churn_counts(&p.id, ("2020-01-01", "2020-01-01"), (d0, d0))
            .await
            .unwrap(),
        (0, 0)
    );
}

async fn rollups_follow_merges(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let d0 = "2027-01-15";
    // The user on device 1 yesterday and today; device 2 (anonymous) today first.
    store
        .ingest(&[job(&p, vec![
            msg(json!({"type":"identify","anonymous_id":"dev1","session_id":"s1","ts":T0 - 86_400_000,"user_id":"u"})),
            msg(json!({"type":"pageview","anonymous_id":"dev1","session_id":"s2","ts":T0,"url":"/"})),
            msg(json!({"type":"pageview","anonymous_id":"dev2","session_id":"s3","ts":T0 + 10,"url":"/"})),
        ])])
        .await
        .unwrap();
    let r = day(&store.daily_stats(&p.id, d0, d0).await.unwrap(), d0);
    assert_eq!((r.active_users, r.new_users), (2, 1));
    // Device 2 signs in: one person, active once today, new yesterday only.
    store
        .ingest(&[job(&p, vec![msg(json!({"type":"identify","anonymous_id":"dev2","session_id":"s3","ts":T0 + 20,"user_id":"u"}))])])
        .await
        .unwrap();
    let rows = store.daily_stats(&p.id, "2027-01-14", d0).await.unwrap();
    let today = day(&rows, d0);
    assert_eq!((today.active_users, today.new_users), (1, 0));
    let yesterday = day(&rows, "2027-01-14");
    assert_eq!((yesterday.active_users, yesterday.new_users), (1, 1));
}

/// A deterministic, messy history: returning visitors, multi-page sessions,
/// events, heartbeats, identifies that merge devices, server-side events.
pub fn synthetic_history(days: i64, visitors: u64) -> Vec<Vec<Message>> {
    let mut seed: u64 = 42;
    let mut rnd = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut batches = Vec::new();
    for d in 0..days {
        let mut batch = Vec::new();
        for v in 0..visitors {
            if rnd(3) == 0 {
                continue;
            }
            let anon = format!("anon-{v}");
            let sid = format!("s-{v}-{d}");
            let mut ts = T0 + d * 86_400_000 + (rnd(20) as i64) * 3_600_000;
            for p in 0..=rnd(4) {
                batch.push(msg(json!({"type":"pageview","anonymous_id":anon,"session_id":sid,"ts":ts,"url":format!("https://x.io/p{p}")})));
                ts += 20_000 + rnd(60_000) as i64;
            }
            if rnd(2) == 0 {
                batch.push(msg(json!({"type":"event","anonymous_id":anon,"session_id":sid,"ts":ts,"name":"click"})));
            }
            batch.push(msg(
                json!({"type":"heartbeat","anonymous_id":anon,"session_id":sid,"ts":ts + 30_000}),
            ));
            if rnd(6) == 0 {
                // Visitors v and v+1 are the same person on two devices.
                let user = format!("user-{}", v / 2);
                batch.push(msg(json!({"type":"identify","anonymous_id":anon,"session_id":sid,"ts":ts + 31_000,"user_id":user})));
            }
        }
        batch.push(msg(json!({"type":"event","user_id":"backend-only","ts":T0 + d * 86_400_000 + 5,"name":"invoice"})));
        batches.push(batch);
    }
    batches
}

/// The churn counters kept in `daily_stats` equal the set difference computed
/// from `user_days`, for every day in `from..=to`.
pub async fn assert_churn_matches(store: &dyn Store, project: &Project, from: &str, to: &str) {
    let (from, to) = (
        vibe_core::day::parse_day(from).unwrap(),
        vibe_core::day::parse_day(to).unwrap(),
    );
    let rows = store
        .daily_stats(&project.id, &from.to_string(), &to.to_string())
        .await
        .unwrap();
    let mut checked_nonzero = false;
    for d in vibe_core::day::days_between(from, to) {
        let back = |n: i64| {
            d.checked_sub(jiff::Span::new().days(n))
                .unwrap()
                .to_string()
        };
        let expected = store
            .churn_counts(&project.id, (&back(13), &back(7)), (&back(6), &back(0)))
            .await
            .unwrap();
        let kept = rows
            .iter()
            .find(|r| r.day == d.to_string())
            .map_or((0, 0), |r| (r.churn_base, r.churned));
        assert_eq!(kept, expected, "churn (base, churned) on {d}");
        checked_nonzero |= expected.1 > 0;
    }
    assert!(checked_nonzero, "the history has churned people");
}

async fn rebuild_matches_incremental(store: Arc<dyn Store>) {
    let mut np = new_project("Site");
    np.timezone = "America/New_York".into();
    let p = store.create_project(&np, None).await.unwrap();
    for batch in synthetic_history(9, 25) {
        // Several requests per batch, like a busy writer.
        let jobs: Vec<IngestJob> = batch.chunks(7).map(|c| job(&p, c.to_vec())).collect();
        store.ingest(&jobs).await.unwrap();
    }
    let (from, to) = ("2027-01-10", "2027-01-31");
    let incremental = store.daily_stats(&p.id, from, to).await.unwrap();
    let incremental_days = store.user_days(&p.id).await.unwrap();
    assert!(incremental.len() >= 9 && incremental.iter().any(|r| r.new_users > 0));
    assert_churn_matches(store.as_ref(), &p, from, to).await;

    let (f, t) = (
        vibe_core::day::parse_day(from).unwrap(),
        vibe_core::day::parse_day(to).unwrap(),
    );
    rollup::rebuild(store.as_ref(), &p, f, t).await.unwrap();
    assert_eq!(
        store.daily_stats(&p.id, from, to).await.unwrap(),
        incremental,
        "rebuild = incremental"
    );
    assert_eq!(store.user_days(&p.id).await.unwrap(), incremental_days);
    rollup::rebuild(store.as_ref(), &p, f, t).await.unwrap();
    assert_eq!(
        store.daily_stats(&p.id, from, to).await.unwrap(),
        incremental,
        "rebuild is idempotent"
    );
}

async fn segments_search_and_pagination(store: Arc<dyn Store>) {
    use crate::users::{Segment, UserQuery, UserSort};
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let now = T0 + 20 * 86_400_000;
    let seen = |id: &str, days_ago: i64, plan: Option<&str>| {
        let mut m = json!({"type":"identify","anonymous_id":id,"user_id":format!("user-{id}"),"ts":now - days_ago * 86_400_000,
            "traits":{"email":format!("{id}@example.com"),"name":format!("Name {id}")}});
        if let Some(plan) = plan {
            m["traits"]["plan"] = json!(plan);
        }
        msg(m)
    };
    store
        .ingest(&[job(
            &p,
            vec![
                seen("fresh", 1, Some("premium")),
                seen("recent", 3, Some("trial")),
                seen("lapsed", 10, Some("free")),
                seen("gone", 40, Some("Pro")),
                seen("quit", 2, Some("churned")),
            ],
        )])
        .await
        .unwrap();
    let ids = |segment: Segment, search: Option<&str>| {
        let store = store.clone();
        let q = UserQuery {
            project_id: p.id.clone(),
            segment,
            search: search.map(str::to_owned),
            sort: UserSort::LastSeen,
            cursor: None,
            limit: 100,
            now_ms: now,
        };
        async move {
            store
                .list_users(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|u| u.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(Segment::All, None).await,
        ["fresh", "quit", "recent", "lapsed", "gone"]
    );
    assert_eq!(
        ids(Segment::Active, None).await,
        ["fresh", "quit", "recent"]
    );
    assert_eq!(ids(Segment::Inactive, None).await, ["lapsed"]);
    assert_eq!(ids(Segment::Churned, None).await, ["quit", "gone"]);
    assert_eq!(ids(Segment::Premium, None).await, ["fresh", "gone"]);
    assert_eq!(ids(Segment::Trial, None).await, ["recent"]);
    assert_eq!(ids(Segment::All, Some("LAPSED@")).await, ["lapsed"]);
    assert_eq!(ids(Segment::All, Some("name f")).await, ["fresh"]);
    assert!(
        ids(Segment::All, Some("%")).await.is_empty(),
        "wildcards are literal"
    );

    // Pages of 2 walk every person exactly once, even with equal sort values.
    store
        .ingest(&[job(
            &p,
            (0..7).map(|i| seen(&format!("tie{i}"), 5, None)).collect(),
        )])
        .await
        .unwrap();
    let mut q = UserQuery {
        project_id: p.id.clone(),
        segment: Segment::All,
        search: None,
        sort: UserSort::FirstSeen,
        cursor: None,
        limit: 2,
        now_ms: now,
    };
    let mut walked = Vec::new();
    loop {
        let page = store.list_users(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.cursor = Some(q.cursor_after(last));
        walked.extend(page.into_iter().map(|u| u.id));
    }
    assert_eq!(walked.len(), 12);
    let mut unique = walked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12);
}

async fn profiles_and_session_history(store: Arc<dyn Store>) {
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let pv = |sid: &str, ts: i64, path: &str| {
        msg(
            json!({"type":"pageview","anonymous_id":"anon-7","session_id":sid,"ts":ts,"url":format!("https://x.io{path}"),"title":path}),
        )
    };
    store
        .ingest(&[job(&p, vec![
            pv("old", T0, "/"),
            pv("old", T0 + 5_000, "/pricing"),
            pv("new", T0 + 86_400_000, "/docs"),
            pv("new", T0 + 86_400_000 + 3_000, "/docs/api"),
            pv("new", T0 + 86_400_000 + 9_000, "/"),
            msg(json!({"type":"identify","anonymous_id":"anon-7","session_id":"new","ts":T0 + 86_400_000 + 10_000,"user_id":"u-7"})),
        ])])
        .await
        .unwrap();
    for any in ["anon-7", "u-7"] {
        let u = store.find_user(&p.id, any).await.unwrap().unwrap();
        assert_eq!(
            (u.id.as_str(), u.user_id.as_deref()),
            ("anon-7", Some("u-7"))
        );
    }
    assert!(store.find_user(&p.id, "nobody").await.unwrap().is_none());
    assert_eq!(store.count_user_sessions(&p.id, "anon-7").await.unwrap(), 2);
    let history = store.user_sessions(&p.id, "anon-7", 20).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|s| s.session.id.as_str())
            .collect::<Vec<_>>(),
        ["new", "old"]
    );
    let paths: Vec<&str> = history[0]
        .pages
        .iter()
        .filter_map(|v| v.path.as_deref())
        .collect();
    assert_eq!(paths, ["/docs", "/docs/api", "/"]);
    assert_eq!(history[1].pages.len(), 2);
    assert_eq!(
        store.user_sessions(&p.id, "anon-7", 1).await.unwrap().len(),
        1
    );
    let other = store
        .create_project(&new_project("Other"), None)
        .await
        .unwrap();
    assert!(store
        .find_user(&other.id, "anon-7")
        .await
        .unwrap()
        .is_none());
}

async fn funnels_store_and_match_events(store: Arc<dyn Store>) {
    use crate::funnel::{Funnel, FunnelStep, StepMatch};
    let p = store
        .create_project(&new_project("Site"), None)
        .await
        .unwrap();
    let other = store
        .create_project(&new_project("Other"), None)
        .await
        .unwrap();
    let mut f = Funnel {
        id: "f1".into(),
        name: "Signup".into(),
        steps: vec![
            FunnelStep {
                kind: StepMatch::Page,
                value: "/docs_".into(),
                prefix: true,
                name: None,
            },
            FunnelStep {
                kind: StepMatch::Event,
                value: "signup".into(),
                prefix: false,
                name: Some("Signed up".into()),
            },
        ],
        window_days: 7,
        created_at: T0,
        updated_at: T0,
    };
    store.create_funnel(&p.id, &f).await.unwrap();
    assert_eq!(store.list_funnels(&p.id).await.unwrap(), vec![f.clone()]);
    assert!(store.list_funnels(&other.id).await.unwrap().is_empty());
    assert!(store.get_funnel(&other.id, "f1").await.unwrap().is_none());
    assert!(matches!(
        store.update_funnel(&other.id, &f).await,
        Err(StoreError::NotFound)
    ));
    f.window_days = 3;
    store.update_funnel(&p.id, &f).await.unwrap();
    assert_eq!(
        store
            .get_funnel(&p.id, "f1")
            .await
            .unwrap()
            .unwrap()
            .window_days,
        3
    );

    store
        .ingest(&[job(&p, vec![
            msg(json!({"type":"pageview","anonymous_id":"a","session_id":"s","ts":T0,"url":"https://x.io/docs_/intro"})),
            msg(json!({"type":"pageview","anonymous_id":"b","session_id":"t","ts":T0,"url":"https://x.io/docsX"})),
            msg(json!({"type":"pageview","anonymous_id":"a","session_id":"s","ts":T0 + 1,"url":"https://x.io/pricing"})),
            msg(json!({"type":"event","anonymous_id":"a","session_id":"s","ts":T0 + 2,"name":"signup"})),
            msg(json!({"type":"event","user_id":"server-user","ts":T0 + 3,"name":"signup"})),
        ])])
        .await
        .unwrap();
    let events = store
        .funnel_events(&p.id, &f.steps, T0, T0 + 10)
        .await
        .unwrap();
    let mut seen: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.person.clone(), e.kind.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("a".into(), "event".into()),
            ("a".into(), "pageview".into()),
            ("uid:server-user".into(), "event".into())
        ]
    );
    assert!(store
        .funnel_events(&other.id, &f.steps, T0, T0 + 10)
        .await
        .unwrap()
        .is_empty());
    store.delete_funnel(&p.id, "f1").await.unwrap();
    assert!(matches!(
        store.delete_funnel(&p.id, "f1").await,
        Err(StoreError::NotFound)
    ));
}
