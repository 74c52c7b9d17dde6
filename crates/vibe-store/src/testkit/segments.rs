//! Custom segments: every operator and combinator of the criteria grammar
//! matched against a hand-made set of people, injection-looking values stored
//! and matched as plain data, the saved segments and their counts, and (once
//! the revenue tables exist) `total_spent` and `subscription_status`.

use std::sync::Arc;

use serde_json::{json, Value};

use super::fixture::*;
use super::T0;
use crate::crm::{ContactPatch, Priority};
use crate::segments::{Node, Segment};
use crate::users::{Segment as Builtin, UserQuery, UserSort};
use crate::Project;

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// "Now" of every case: ten days after the history starts.
const NOW: i64 = T0 + 10 * DAY;

const OR_1: &str = "' OR 1=1 --";
const DROP: &str = "\"); DROP TABLE site_users; --";
/// [`OR_1`] as a stored tag (tags are stored normalised: lowercase).
const OR_1_TAG: &str = "' or 1=1 --";
const ODD_KEY: &str = "we'ird.\"key";

fn who(anon: &str, ts: i64, traits: Value) -> Msg {
    identify(anon, &format!("s-{anon}"), ts, &format!("user-{anon}")).with("traits", traits)
}

/// ana, bob, cy, dan and evil (see the comments) in `p`; bob also in `other`.
async fn people(fx: &Fixture, p: &Project, other: &Project) {
    fx.ingest(
        p,
        [
            // ana: pro, 30, vip, Amsterdam; two sessions; three exports, the last recent.
            who(
                "ana",
                T0,
                json!({"plan": "pro", "age": 30, "vip": true, "city": "Amsterdam",
                       ODD_KEY: "odd", "a.b": 1}),
            ),
            event("ana", "s-ana", T0 + HOUR, "export"),
            event("ana", "s-ana", T0 + 2 * HOUR, "export"),
            event("ana", "s-ana-2", NOW - HOUR, "export"),
            // bob: free, 17, not vip, Berlin, a null note; one export; a server-side purchase.
            who(
                "bob",
                T0,
                json!({"plan": "free", "age": 17, "vip": false, "city": "Berlin", "note": null}),
            ),
            event("bob", "s-bob", T0 + 2 * HOUR, "export"),
            // cy: no traits, first seen recently.
            who("cy", NOW - 3 * DAY, json!({})),
            event("cy", "s-cy", NOW - 3 * DAY, "signup"),
            // dan: near misses of evil's values; age as text; a nested a.b.
            who(
                "dan",
                T0 + DAY,
                json!({"inj": "something else", "drop": "x", "pct": "100x", "us": "aXb",
                       "age": "40", "a": {"b": 1}}),
            ),
            // evil: injection-looking values and key.
            who(
                "evil",
                T0 + DAY,
                json!({"inj": OR_1, "drop": DROP, "pct": "100%", "us": "a_b", OR_1: "k"}),
            ),
        ],
    )
    .await;
    fx.ingest(p, [server_event("user-bob", T0 + 3 * HOUR, "purchase")])
        .await;
    fx.ingest(other, [who("bob", T0, json!({"plan": "pro", "age": 30}))])
        .await;
    fx.ingest(other, [event("bob", "s-bob", T0 + HOUR, "export")])
        .await;
    let patch = |tags: &[&str], priority| ContactPatch {
        tags: Some(tags.iter().map(|t| t.to_string()).collect()),
        priority: Some(priority),
        ..ContactPatch::default()
    };
    for (id, tags, priority) in [
        ("ana", &["vip"][..], Some(Priority::High)),
        ("bob", &["beta"][..], Some(Priority::Low)),
        ("evil", &["vip", OR_1_TAG][..], None),
    ] {
        fx.update_contact(&p.id, id, &patch(tags, priority), T0)
            .await
            .unwrap();
    }
    fx.update_contact(&other.id, "bob", &patch(&["vip"], Some(Priority::High)), T0)
        .await
        .unwrap();
}

fn parse(v: Value) -> Node {
    Node::parse(&v, "criteria").unwrap_or_else(|e| panic!("{v}: {e}"))
}

/// Ids of the people of `p` matching, sorted; checked against the count.
async fn matching(fx: &Fixture, p: &Project, v: Value) -> Vec<String> {
    let node = parse(v.clone());
    let q = UserQuery {
        project_id: p.id.clone(),
        segment: Builtin::All,
        search: None,
        tag: None,
        priority: None,
        criteria: Some(Arc::new(node.clone())),
        sort: UserSort::FirstSeen,
        cursor: None,
        limit: 100,
        now_ms: NOW,
    };
    let mut ids: Vec<String> = fx
        .list_users(&q)
        .await
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .into_iter()
        .map(|u| u.id)
        .collect();
    ids.sort();
    let count = fx.count_matching(&p.id, &node, NOW).await.unwrap();
    assert_eq!(count, ids.len() as i64, "count of {v}");
    ids
}

fn t(key: &str, op: &str, value: Value) -> Value {
    json!({"field": "trait", "key": key, "op": op, "value": value})
}

macro_rules! expect {
    ($fx:expr, $p:expr, $criteria:expr, $want:expr) => {{
        let want: &[&str] = &$want;
        let got = matching($fx, $p, $criteria).await;
        assert_eq!(got, want, "{}", $criteria);
    }};
}

pub async fn every_operator_and_combinator(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    people(&fx, &p, &other).await;
    let fx = &fx;
    let p = &p;
    let everyone = ["ana", "bob", "cy", "dan", "evil"];

    // Traits: eq by JSON type and value.
    expect!(fx, p, t("city", "eq", json!("Amsterdam")), ["ana"]);
    expect!(fx, p, t("city", "eq", json!("amsterdam")), []);
    expect!(fx, p, t("age", "eq", json!(30)), ["ana"]);
    expect!(fx, p, t("age", "eq", json!(30.0)), ["ana"]);
    expect!(fx, p, t("age", "eq", json!("30")), []);
    expect!(fx, p, t("age", "eq", json!("40")), ["dan"]);
    expect!(fx, p, t("vip", "eq", json!(true)), ["ana"]);
    expect!(fx, p, t("vip", "eq", json!(false)), ["bob"]);
    // neq is the complement of eq: people without the trait included.
    expect!(
        fx,
        p,
        t("city", "neq", json!("Amsterdam")),
        ["bob", "cy", "dan", "evil"]
    );
    expect!(
        fx,
        p,
        t("vip", "neq", json!(true)),
        ["bob", "cy", "dan", "evil"]
    );
    // contains: text traits, case-insensitive.
    expect!(fx, p, t("city", "contains", json!("ERL")), ["bob"]);
    expect!(fx, p, t("age", "contains", json!("3")), []);
    // exists: present and not null.
    let exists = |key: &str| json!({"field": "trait", "key": key, "op": "exists"});
    expect!(fx, p, exists("city"), ["ana", "bob"]);
    expect!(fx, p, exists("note"), []);
    expect!(fx, p, exists("nobody-has-this"), []);
    // gt / lt: numbers only (dan's "40" is text).
    expect!(fx, p, t("age", "gt", json!(18)), ["ana"]);
    expect!(fx, p, t("age", "gt", json!(17.5)), ["ana"]);
    expect!(fx, p, t("age", "lt", json!(18)), ["bob"]);
    expect!(fx, p, t("age", "lt", json!(17)), []);
    // A key is a key, never a JSON path: dots and quotes are plain characters.
    expect!(fx, p, t(ODD_KEY, "eq", json!("odd")), ["ana"]);
    expect!(fx, p, exists("a.b"), ["ana"]);
    expect!(fx, p, exists("a"), ["dan"]);

    // Plan (the promoted column), case-insensitive.
    let plan = |op: &str, v: Option<&str>| match v {
        Some(v) => json!({"field": "plan", "op": op, "value": v}),
        None => json!({"field": "plan", "op": op}),
    };
    expect!(fx, p, plan("eq", Some("PRO")), ["ana"]);
    expect!(
        fx,
        p,
        plan("neq", Some("pro")),
        ["bob", "cy", "dan", "evil"]
    );
    expect!(fx, p, plan("exists", None), ["ana", "bob"]);

    // Tags and priority (this project's only).
    let tag = |v: &str| json!({"field": "tag", "op": "has", "value": v});
    expect!(fx, p, tag("vip"), ["ana", "evil"]);
    expect!(fx, p, tag(" VIP "), ["ana", "evil"]);
    expect!(fx, p, tag("beta"), ["bob"]);
    let prio = |op: &str, v: Option<&str>| match v {
        Some(v) => json!({"field": "priority", "op": op, "value": v}),
        None => json!({"field": "priority", "op": op}),
    };
    expect!(fx, p, prio("eq", Some("high")), ["ana"]);
    expect!(
        fx,
        p,
        prio("neq", Some("high")),
        ["bob", "cy", "dan", "evil"]
    );
    expect!(fx, p, prio("exists", None), ["ana", "bob"]);

    // First and last seen, in days back from now.
    let seen = |field: &str, op: &str, days: i64| json!({"field": field, "op": op, "value": days});
    expect!(fx, p, seen("first_seen", "within_days", 7), ["cy"]);
    expect!(
        fx,
        p,
        seen("first_seen", "before_days", 7),
        ["ana", "bob", "dan", "evil"]
    );
    expect!(fx, p, seen("first_seen", "within_days", 10), everyone);
    expect!(fx, p, seen("last_seen", "within_days", 1), ["ana"]);
    expect!(
        fx,
        p,
        seen("last_seen", "before_days", 1),
        ["bob", "cy", "dan", "evil"]
    );

    // Session counts.
    let sessions = |op: &str, n: i64| json!({"field": "sessions", "op": op, "value": n});
    expect!(fx, p, sessions("gt", 1), ["ana"]);
    expect!(fx, p, sessions("eq", 1), ["bob", "cy", "dan", "evil"]);
    expect!(fx, p, sessions("lt", 2), ["bob", "cy", "dan", "evil"]);
    expect!(fx, p, sessions("eq", 2), ["ana"]);

    // Events performed: at least N times, optionally within N days; a
    // server-side event counts for the person of its user id.
    let ev = |name: &str, count: Option<i64>, within: Option<i64>| {
        let mut v = json!({"field": "event", "op": "performed", "name": name});
        if let Some(c) = count {
            v["count"] = json!(c);
        }
        if let Some(d) = within {
            v["within_days"] = json!(d);
        }
        v
    };
    expect!(fx, p, ev("export", None, None), ["ana", "bob"]);
    expect!(fx, p, ev("export", Some(3), None), ["ana"]);
    expect!(fx, p, ev("export", Some(4), None), []);
    expect!(fx, p, ev("export", None, Some(2)), ["ana"]);
    expect!(fx, p, ev("export", Some(2), Some(2)), []);
    expect!(fx, p, ev("purchase", None, None), ["bob"]);
    expect!(fx, p, ev("signup", None, Some(5)), ["cy"]);

    // Combinators.
    expect!(fx, p, json!({"all": []}), everyone);
    expect!(fx, p, json!({"any": []}), []);
    expect!(
        fx,
        p,
        json!({"all": [tag("vip"), t("inj", "eq", json!(OR_1))]}),
        ["evil"]
    );
    expect!(
        fx,
        p,
        json!({"any": [plan("eq", Some("pro")), ev("signup", None, None)]}),
        ["ana", "cy"]
    );
    expect!(
        fx,
        p,
        json!({"not": ev("export", None, None)}),
        ["cy", "dan", "evil"]
    );
    expect!(fx, p, json!({"not": {"not": tag("vip")}}), ["ana", "evil"]);
    expect!(
        fx,
        p,
        json!({"all": [
            {"any": [tag("vip"), tag("beta")]},
            {"not": {"all": [plan("exists", None), t("age", "lt", json!(18))]}}
        ]}),
        ["ana", "evil"]
    );
    // A condition alone is criteria too.
    expect!(fx, p, tag("beta"), ["bob"]);
}

pub async fn injection_looking_values_are_data(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    people(&fx, &p, &other).await;
    let fx = &fx;
    let p = &p;

    // Each stored value matches exactly the one person who has it.
    expect!(fx, p, t("inj", "eq", json!(OR_1)), ["evil"]);
    expect!(
        fx,
        p,
        t("inj", "neq", json!(OR_1)),
        ["ana", "bob", "cy", "dan"]
    );
    expect!(fx, p, t("drop", "eq", json!(DROP)), ["evil"]);
    expect!(fx, p, t("drop", "contains", json!("DROP TABLE")), ["evil"]);
    // `%` and `_` are characters, not wildcards.
    expect!(fx, p, t("pct", "eq", json!("100%")), ["evil"]);
    expect!(fx, p, t("pct", "contains", json!("%")), ["evil"]);
    expect!(fx, p, t("us", "contains", json!("_")), ["evil"]);
    expect!(fx, p, t("us", "eq", json!("a_b")), ["evil"]);
    // The injection string as a key.
    expect!(
        fx,
        p,
        json!({"field": "trait", "key": OR_1, "op": "exists"}),
        ["evil"]
    );
    expect!(fx, p, t(OR_1, "eq", json!("k")), ["evil"]);
    // Anywhere else it matches nothing (and breaks nothing).
    expect!(
        fx,
        p,
        json!({"field": "plan", "op": "eq", "value": OR_1}),
        []
    );
    expect!(
        fx,
        p,
        json!({"field": "tag", "op": "has", "value": OR_1}),
        ["evil"]
    );
    expect!(
        fx,
        p,
        json!({"field": "tag", "op": "has", "value": DROP}),
        []
    );
    expect!(
        fx,
        p,
        json!({"field": "event", "op": "performed", "name": DROP}),
        []
    );
    expect!(fx, p, t("city", "contains", json!(OR_1)), []);
    // The table is still there, with everyone in it.
    expect!(
        fx,
        p,
        json!({"all": []}),
        ["ana", "bob", "cy", "dan", "evil"]
    );
}

pub async fn saved_segments_and_counts(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    people(&fx, &p, &other).await;
    let seg = |id: &str, name: &str, criteria: Value| Segment {
        id: id.into(),
        name: name.into(),
        description: Some("desc".into()),
        criteria: criteria.to_string(),
        user_count: 0,
        counted_at: None,
        created_at: T0,
        updated_at: T0,
    };
    let vip = seg(
        "s1",
        "VIPs",
        json!({"field": "tag", "op": "has", "value": "vip"}),
    );
    let pro = seg(
        "s2",
        "Pro",
        json!({"field": "plan", "op": "eq", "value": "pro"}),
    );
    fx.create_segment(&p.id, &vip).await.unwrap();
    fx.create_segment(&p.id, &pro).await.unwrap();
    // Same id in another project: a different segment.
    fx.create_segment(&other.id, &seg("s1", "Other VIPs", json!({"all": []})))
        .await
        .unwrap();

    let names: Vec<String> = fx
        .list_segments(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Pro", "VIPs"]);
    assert_eq!(
        fx.get_segment(&p.id, "s1").await.unwrap(),
        Some(vip.clone())
    );
    assert_eq!(fx.get_segment(&p.id, "nope").await.unwrap(), None);

    let counted = fx.refresh_segment(&p.id, "s1", NOW).await.unwrap().unwrap();
    assert_eq!((counted.user_count, counted.counted_at), (2, Some(NOW)));
    assert_eq!(fx.get_segment(&p.id, "s1").await.unwrap(), Some(counted));
    assert_eq!(fx.refresh_segment(&p.id, "nope", NOW).await.unwrap(), None);

    // The scheduler's pass: never counted first, then the oldest, a few at a time.
    assert_eq!(
        fx.refresh_stale_segments(NOW - 1, NOW + 1, 1)
            .await
            .unwrap(),
        1
    );
    let s2 = fx.get_segment(&p.id, "s2").await.unwrap().unwrap();
    let o1 = fx.get_segment(&other.id, "s1").await.unwrap().unwrap();
    assert_eq!(
        [s2.counted_at, o1.counted_at]
            .iter()
            .filter(|c| c.is_some())
            .count(),
        1
    );
    assert_eq!(
        fx.refresh_stale_segments(NOW - 1, NOW + 2, 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        fx.get_segment(&p.id, "s2")
            .await
            .unwrap()
            .unwrap()
            .user_count,
        1
    );
    // The other project's "everyone" counts its own people only.
    assert_eq!(
        fx.get_segment(&other.id, "s1")
            .await
            .unwrap()
            .unwrap()
            .user_count,
        1
    );
    // Fresh counts are left alone.
    assert_eq!(
        fx.refresh_stale_segments(NOW - 1, NOW + 3, 10)
            .await
            .unwrap(),
        0
    );

    let mut renamed = vip.clone();
    renamed.name = "Very important".into();
    renamed.criteria = json!({"field": "tag", "op": "has", "value": "beta"}).to_string();
    renamed.user_count = 1;
    renamed.counted_at = Some(NOW);
    renamed.updated_at = NOW;
    fx.update_segment(&p.id, &renamed).await.unwrap();
    assert_eq!(
        fx.get_segment(&p.id, "s1").await.unwrap(),
        Some(renamed.clone())
    );
    // Another project's segment is out of reach.
    let mut foreign = renamed.clone();
    foreign.id = "s2-nope".into();
    assert!(fx.update_segment(&p.id, &foreign).await.is_err());
    assert!(fx.delete_segment(&p.id, "nope").await.is_err());
    fx.delete_segment(&p.id, "s1").await.unwrap();
    assert_eq!(fx.get_segment(&p.id, "s1").await.unwrap(), None);
    assert!(fx.get_segment(&other.id, "s1").await.unwrap().is_some());
}

/// Whether `table` exists in this database.
async fn has_table(fx: &Fixture, table: &str) -> bool {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE 1 = 0");
    fx.db().scalar::<i64>(&sql, ()).await.is_ok()
}

/// `total_spent` and `subscription_status` read the revenue domain's
/// `payments` and `subscriptions` (migration 0011, docs/architecture.md);
/// until those tables exist this case says so and returns.
pub async fn revenue_conditions(fx: Fixture) {
    if !has_table(&fx, "payments").await || !has_table(&fx, "subscriptions").await {
        eprintln!(
            "segments::revenue_conditions: no payments/subscriptions tables (migration 0011) yet; not run"
        );
        return;
    }
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    people(&fx, &p, &other).await;
    let pay = "INSERT INTO payments (project_id, payment_id, site_user_id, amount, currency, plan, status, paid_at, day, event_id)
         VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, '2027-01-15', $2)";
    for (project, id, person, amount, currency, status) in [
        (&p.id, "pay-1", "ana", 5000_i64, "EUR", "succeeded"),
        (&p.id, "pay-2", "ana", 2500, "EUR", "succeeded"),
        (&p.id, "pay-3", "ana", 9999, "EUR", "refunded"),
        (&p.id, "pay-4", "bob", 1000, "USD", "succeeded"),
        (&other.id, "pay-5", "bob", 100_000, "EUR", "succeeded"),
    ] {
        fx.db()
            .execute(pay, (project, id, person, amount, currency, status, T0))
            .await
            .unwrap();
    }
    let sub = "INSERT INTO subscriptions (project_id, subscription_id, site_user_id, plan, status, amount, currency, \"interval\", started_at, updated_at, last_event_id)
         VALUES ($1, $2, $3, 'pro', $4, 1000, 'EUR', 'month', $5, $5, $2)";
    for (project, id, person, status) in [
        (&p.id, "sub-1", "ana", "active"),
        (&p.id, "sub-2", "bob", "canceled"),
        (&other.id, "sub-3", "cy", "active"),
    ] {
        fx.db()
            .execute(sub, (project, id, person, status, T0))
            .await
            .unwrap();
    }
    let fx = &fx;
    let p = &p;
    let spent = |op: &str, v: i64, cur: &str| json!({"field": "total_spent", "op": op, "value": v, "currency": cur});
    expect!(fx, p, spent("eq", 7500, "EUR"), ["ana"]);
    expect!(fx, p, spent("gt", 7499, "EUR"), ["ana"]);
    expect!(fx, p, spent("gt", 7500, "EUR"), []);
    expect!(fx, p, spent("lt", 1, "EUR"), ["bob", "cy", "dan", "evil"]);
    expect!(fx, p, spent("eq", 1000, "USD"), ["bob"]);
    let status = |op: &str, v: &str| json!({"field": "subscription_status", "op": op, "value": v});
    expect!(fx, p, status("eq", "active"), ["ana"]);
    expect!(fx, p, status("eq", "canceled"), ["bob"]);
    expect!(fx, p, status("neq", "active"), ["bob", "cy", "dan", "evil"]);
    expect!(fx, p, status("eq", "trialing"), []);
}
