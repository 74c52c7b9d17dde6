//! The people list (segments, search, pages), profiles and session histories.

use serde_json::json;

use super::fixture::*;
use super::T0;
use crate::users::{Segment, UserQuery, UserSort};

pub async fn segments_search_and_pagination(fx: Fixture) {
    let p = fx.project("Site").await;
    let now = T0 + 20 * 86_400_000;
    // Sessionless identifies: people with traits and no visits.
    let seen = |id: &str, days_ago: i64, plan: Option<&str>| {
        let mut m = json!({"type":"identify","anonymous_id":id,"user_id":format!("user-{id}"),"ts":now - days_ago * 86_400_000,
            "traits":{"email":format!("{id}@example.com"),"name":format!("Name {id}")}});
        if let Some(plan) = plan {
            m["traits"]["plan"] = json!(plan);
        }
        msg(m)
    };
    fx.ingest(
        &p,
        [
            seen("fresh", 1, Some("premium")),
            seen("recent", 3, Some("trial")),
            seen("lapsed", 10, Some("free")),
            seen("gone", 40, Some("Pro")),
            seen("quit", 2, Some("churned")),
        ],
    )
    .await;
    let query = |segment: Segment, search: Option<&str>, sort: UserSort, limit: i64| UserQuery {
        project_id: p.id.clone(),
        segment,
        search: search.map(str::to_owned),
        tag: None,
        priority: None,
        criteria: None,
        sort,
        cursor: None,
        limit,
        now_ms: now,
    };
    let fx = &fx;
    let ids = |segment: Segment, search: Option<&str>| {
        let q = query(segment, search, UserSort::LastSeen, 100);
        async move {
            fx.list_users(&q)
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
    fx.ingest(&p, (0..7).map(|i| seen(&format!("tie{i}"), 5, None)))
        .await;
    let mut q = query(Segment::All, None, UserSort::FirstSeen, 2);
    let mut walked = Vec::new();
    loop {
        let page = fx.list_users(&q).await.unwrap();
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

pub async fn profiles_and_session_history(fx: Fixture) {
    let p = fx.project("Site").await;
    let pv = |sid: &str, ts: i64, path: &str| {
        pageview("anon-7", sid, ts, &format!("https://x.io{path}")).with("title", path)
    };
    fx.ingest(
        &p,
        [
            pv("old", T0, "/"),
            pv("old", T0 + 5_000, "/pricing"),
            pv("new", T0 + 86_400_000, "/docs"),
            pv("new", T0 + 86_400_000 + 3_000, "/docs/api"),
            pv("new", T0 + 86_400_000 + 9_000, "/"),
            identify("anon-7", "new", T0 + 86_400_000 + 10_000, "u-7"),
        ],
    )
    .await;
    for any in ["anon-7", "u-7"] {
        let u = fx.find_user(&p.id, any).await.unwrap().unwrap();
        assert_eq!(
            (u.id.as_str(), u.identity.user_id.as_deref()),
            ("anon-7", Some("u-7"))
        );
    }
    assert!(fx.find_user(&p.id, "nobody").await.unwrap().is_none());
    let totals = fx.user_session_totals(&p.id, "anon-7").await.unwrap();
    // 5 s and 9 s.
    assert_eq!((totals.total_sessions, totals.avg_session_s), (2, 7));
    let history = fx.user_sessions(&p.id, "anon-7", 20).await.unwrap();
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
    assert_eq!(fx.user_sessions(&p.id, "anon-7", 1).await.unwrap().len(), 1);
    let other = fx.project("Other").await;
    assert!(fx.find_user(&other.id, "anon-7").await.unwrap().is_none());
}
