//! Feature usage and AI token usage: the rollups kept at ingest (only new,
//! non-reserved custom events; retries count once; merges unite people) and
//! rebuilt from stored events to the same rows.

use serde_json::json;
use vibe_core::Message;

use super::fixture::*;
use super::T0;
use crate::features::ai_people::PeoplePolicy;
use crate::features::model::AiTotals;
use crate::*;

const DAY: i64 = 86_400_000;
/// The people page computed live, whatever the range's size.
pub const LIVE: PeoplePolicy = PeoplePolicy {
    now_ms: 0,
    max_age_ms: 0,
    live_limit: i64::MAX,
};
const D0: &str = "2027-01-15";
const D1: &str = "2027-01-16";

fn ai(anon: &str, ts: i64, model: &str, prompt: i64, completion: i64, cost: f64) -> Msg {
    event(anon, &format!("s-{anon}"), ts, "ai_usage").with(
        "props",
        json!({"model": model, "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}),
    )
}

fn msgs(v: Vec<Message>) -> Vec<Message> {
    v
}

fn named<'a>(
    u: &'a features::model::FeatureUsage,
    name: &str,
) -> &'a features::model::FeatureTotal {
    u.features
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("feature {name}"))
}

pub async fn feature_counts_uniques_and_duplicates(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
    let retried: Message = event("a", "a1", T0 + 3, "click").into();
    fx.ingest(
        &p,
        msgs(vec![
            event("a", "a1", T0, "click").into(),
            event("a", "a1", T0 + 1, "click").into(),
            retried.clone(),
            event("b", "b1", T0 + 2, "click").into(),
            event("b", "b1", T0 + 4, "export").into(),
            pageview("c", "c1", T0, "/pricing").into(),
            identify("c", "c1", T0 + 5, "uc").into(),
            // Reserved names are not features.
            event("a", "a1", T0 + 6, "payment").into(),
            event("a", "a1", T0 + 7, "subscription").into(),
            ai("a", T0 + 8, "gpt", 10, 5, 0.01).into(),
        ]),
    )
    .await;
    // A retried message id counts once, in a later batch and within one.
    let out = fx.ingest(&p, [retried.clone(), retried]).await;
    assert_eq!(out[0].duplicates, 2);
    fx.ingest(&p, [event("a", "a2", T0 + DAY, "click")]).await;
    fx.ingest(&other, [event("z", "z1", T0, "click")]).await;

    let u = fx.feature_usage(&p.id, D0, D1).await.unwrap();
    let names: Vec<&str> = u.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["click", "export"],
        "most used first, reserved names and page views excluded"
    );
    let click = named(&u, "click");
    assert_eq!((click.total, click.unique_people), (5, 2));
    assert_eq!(click.daily, [(D0.to_owned(), 4), (D1.to_owned(), 1)]);
    assert_eq!(u.active_people, 3, "a, b and c were active");
    assert_eq!(named(&u, "export").unique_people, 1);

    // Uniques are distinct over the range, not summed per day.
    let day1 = fx.feature_usage(&p.id, D1, D1).await.unwrap();
    assert_eq!(
        (
            named(&day1, "click").total,
            named(&day1, "click").unique_people
        ),
        (1, 1)
    );
    assert_eq!(day1.active_people, 1);
    let none = fx
        .feature_usage(&p.id, "2027-02-01", "2027-02-02")
        .await
        .unwrap();
    assert!(none.features.is_empty() && none.active_people == 0);

    let a = fx.person_of(&p, "a").await;
    let pf = fx.person_feature_usage(&p.id, &a.id).await.unwrap();
    assert_eq!(pf.len(), 1, "only click; reserved names are not features");
    assert_eq!(
        (
            pf[0].name.as_str(),
            pf[0].events,
            pf[0].first_ts,
            pf[0].last_ts
        ),
        ("click", 4, T0, T0 + DAY)
    );
    // The other project sees only its own.
    let o = fx.feature_usage(&other.id, D0, D1).await.unwrap();
    assert_eq!((o.features.len(), named(&o, "click").total), (1, 1));
    assert!(fx
        .person_feature_usage(&other.id, &a.id)
        .await
        .unwrap()
        .is_empty());
}

pub async fn merges_unite_feature_and_ai_rows(fx: Fixture) {
    let p = fx.project("Site").await;
    fx.ingest(
        &p,
        msgs(vec![
            identify("dev1", "s1", T0, "u").into(),
            event("dev1", "s1", T0 + 1, "x").into(),
            ai("dev1", T0 + 2, "gpt", 100, 10, 0.5).into(),
            event("dev2", "s2", T0 + 3, "x").into(),
            event("dev2", "s2", T0 - 5, "y").into(),
            ai("dev2", T0 + 4, "gpt", 1, 2, 0.25).into(),
            ai("dev2", T0 + 5, "claude", 7, 0, 0.0).into(),
        ]),
    )
    .await;
    let before = fx.feature_usage(&p.id, D0, D0).await.unwrap();
    assert_eq!(named(&before, "x").unique_people, 2);
    fx.ingest(&p, [identify("dev2", "s2", T0 + 10, "u")]).await;
    let person = fx.person_of(&p, "dev2").await;
    assert_eq!(person.id, fx.person_of(&p, "dev1").await.id, "merged");

    let after = fx.feature_usage(&p.id, D0, D0).await.unwrap();
    let x = named(&after, "x");
    assert_eq!(
        (x.total, x.unique_people),
        (2, 1),
        "one person now, events unchanged"
    );
    let pf = fx.person_feature_usage(&p.id, &person.id).await.unwrap();
    let got: Vec<(&str, i64, i64, i64)> = pf
        .iter()
        .map(|f| (f.name.as_str(), f.events, f.first_ts, f.last_ts))
        .collect();
    assert_eq!(got, [("x", 2, T0 + 1, T0 + 3), ("y", 1, T0 - 5, T0 - 5)]);
    assert!(fx
        .person_feature_usage(&p.id, "dev2")
        .await
        .unwrap()
        .is_empty());

    let mine = fx.person_ai_usage(&p.id, &person.id).await.unwrap();
    assert_eq!(
        mine.totals,
        AiTotals {
            calls: 3,
            prompt_tokens: 108,
            completion_tokens: 12,
            cost_micro_usd: 750_000
        }
    );
    let models: Vec<(&str, i64)> = mine
        .by_model
        .iter()
        .map(|m| (m.model.as_str(), m.totals.calls))
        .collect();
    assert_eq!(models, [("gpt", 2), ("claude", 1)]);
    let r = fx.ai_usage(&p.id, D0, D0, 50, 0, LIVE).await.unwrap();
    assert_eq!((r.users, r.by_user.len()), (1, 1));
    assert_eq!(r.by_user[0].site_user_id, person.id);
    assert_eq!(r.by_user[0].user_id.as_deref(), Some("u"));
    assert_eq!(
        fx.feature_rollups(&p.id).await.unwrap().ai.len(),
        2,
        "gpt rows of both devices merged into one"
    );
    super::uniques::checked_sketches(&*fx, &p.id).await;
}

pub async fn ai_usage_by_model_user_and_day(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
    fx.ingest(
        &p,
        msgs(vec![
            ai("a", T0, "gpt-4o", 1000, 200, 0.012).into(),
            ai("a", T0 + 1, "gpt-4o", 500, 100, 0.006).into(),
            ai("b", T0 + 2, "claude", 50, 50, 0.001).into(),
            ai("b", T0 + DAY, "gpt-4o", 10, 0, 0.0).into(),
            // Without cost_usd: counts tokens, costs nothing.
            event("c", "s-c", T0 + DAY, "ai_usage")
                .with("props", json!({"model": "small", "prompt_tokens": 3, "completion_tokens": 4}))
                .into(),
            // A server-side call, for a user never seen in a browser.
            server_event("backend", T0 + DAY, "ai_usage")
                .with("props", json!({"model": "claude", "prompt_tokens": 2000, "completion_tokens": 0, "cost_usd": 0.1, "feature": "vision"}))
                .into(),
        ],),
    )
    .await;
    fx.ingest(&other, [ai("a", T0, "gpt-4o", 99, 99, 9.0)])
        .await;
    let r = fx.ai_usage(&p.id, D0, D1, 50, 0, LIVE).await.unwrap();
    assert_eq!(
        r.totals,
        AiTotals {
            calls: 6,
            prompt_tokens: 3563,
            completion_tokens: 354,
            cost_micro_usd: 119_000
        }
    );
    let models: Vec<(&str, i64, i64)> = r
        .by_model
        .iter()
        .map(|m| (m.model.as_str(), m.totals.calls, m.totals.total_tokens()))
        .collect();
    assert_eq!(
        models,
        [("claude", 2, 2100), ("gpt-4o", 3, 1810), ("small", 1, 7)]
    );
    let users: Vec<(&str, i64)> = r
        .by_user
        .iter()
        .map(|u| (u.site_user_id.as_str(), u.totals.total_tokens()))
        .collect();
    assert_eq!(
        users,
        [("uid:backend", 2000), ("a", 1800), ("b", 110), ("c", 7)]
    );
    assert_eq!(r.users, 4);
    let days: Vec<(&str, i64, i64)> = r
        .daily
        .iter()
        .map(|d| {
            (
                d.day.as_str(),
                d.totals.prompt_tokens,
                d.totals.cost_micro_usd,
            )
        })
        .collect();
    assert_eq!(days, [(D0, 1550, 19_000), (D1, 2013, 100_000)]);
    // Paging people.
    let page = fx.ai_usage(&p.id, D0, D1, 2, 1, LIVE).await.unwrap();
    let users: Vec<&str> = page
        .by_user
        .iter()
        .map(|u| u.site_user_id.as_str())
        .collect();
    assert_eq!((users.as_slice(), page.users), (["a", "b"].as_slice(), 4));
    // One day only; and a person's all-time summary.
    let d1 = fx.ai_usage(&p.id, D1, D1, 50, 0, LIVE).await.unwrap();
    assert_eq!((d1.totals.calls, d1.users), (3, 3));
    let a = fx.person_ai_usage(&p.id, "a").await.unwrap();
    assert_eq!(
        (
            a.totals.calls,
            a.totals.total_tokens(),
            a.totals.cost_micro_usd
        ),
        (2, 1800, 18_000)
    );
    let nobody = fx.person_ai_usage(&p.id, "nobody").await.unwrap();
    assert_eq!(
        (nobody.totals, nobody.by_model.len()),
        (AiTotals::default(), 0)
    );
    // ai_usage is not a feature.
    assert!(fx
        .feature_usage(&p.id, D0, D1)
        .await
        .unwrap()
        .features
        .is_empty());
    assert_eq!(
        fx.ai_usage(&other.id, D0, D1, 50, 0, LIVE)
            .await
            .unwrap()
            .totals
            .calls,
        1
    );
}

/// Over a range with more people than the live limit, the people page is a
/// snapshot: equal to the live page when taken, served unchanged while it is
/// young (with its time), retaken on read once it is old and by the
/// scheduler's refresh while it is read; pages past it and small ranges stay
/// live; a rebuild drops it.
pub async fn ai_people_snapshot_serves_and_refreshes(fx: Fixture) {
    let p = fx.project("Site").await;
    let batch: Vec<Msg> = (0..6)
        .map(|i| ai(&format!("p{i}"), T0 + i, "gpt-4o", 100 * (i + 1), 0, 0.0))
        .collect();
    fx.ingest(&p, batch).await;
    let at = |now_ms| PeoplePolicy {
        now_ms,
        max_age_ms: 60_000,
        live_limit: 3,
    };
    let ids = |r: &features::model::AiUsageReport| -> Vec<(String, i64)> {
        r.by_user
            .iter()
            .map(|u| (u.site_user_id.clone(), u.totals.total_tokens()))
            .collect()
    };
    let live = fx.ai_usage(&p.id, D0, D1, 4, 1, LIVE).await.unwrap();
    let first = fx.ai_usage(&p.id, D0, D1, 4, 1, at(T0)).await.unwrap();
    assert_eq!((ids(&first), first.by_user_as_of_ms), (ids(&live), T0));
    assert_eq!(first.by_user, live.by_user);

    // New usage: a young snapshot still shows the old page, and says when.
    fx.ingest(&p, [ai("p0", T0 + 10, "gpt-4o", 5_000, 0, 0.0)])
        .await;
    let young = fx
        .ai_usage(&p.id, D0, D1, 4, 1, at(T0 + 30_000))
        .await
        .unwrap();
    assert_eq!((ids(&young), young.by_user_as_of_ms), (ids(&live), T0));
    // The totals are never from a snapshot.
    assert_eq!(young.totals.prompt_tokens, 2_100 + 5_000);
    let fresh_live = fx.ai_usage(&p.id, D0, D1, 4, 1, LIVE).await.unwrap();
    assert_eq!(fresh_live.by_user[0].site_user_id, "p5");

    // The scheduler retakes it (older than half the age, read recently).
    assert_eq!(fx.refresh_ai_people(at(T0 + 31_000)).await.unwrap(), 1);
    let refreshed = fx
        .ai_usage(&p.id, D0, D1, 4, 1, at(T0 + 32_000))
        .await
        .unwrap();
    assert_eq!(
        (ids(&refreshed), refreshed.by_user_as_of_ms),
        (ids(&fresh_live), T0 + 31_000)
    );
    assert_eq!(fx.refresh_ai_people(at(T0 + 32_000)).await.unwrap(), 0);

    // Too old: a read retakes it.
    fx.ingest(&p, [ai("p1", T0 + 11, "gpt-4o", 9_000, 0, 0.0)])
        .await;
    let old = fx
        .ai_usage(&p.id, D0, D1, 50, 0, at(T0 + 200_000))
        .await
        .unwrap();
    assert_eq!(old.by_user_as_of_ms, T0 + 200_000);
    assert_eq!(
        ids(&old),
        ids(&fx.ai_usage(&p.id, D0, D1, 50, 0, LIVE).await.unwrap())
    );
    assert_eq!(old.by_user[0].site_user_id, "p1");

    // A page past the snapshot's people, and a small range, are live.
    let deep = fx
        .ai_usage(&p.id, D0, D1, 50, 480, at(T0 + 200_001))
        .await
        .unwrap();
    assert_eq!(deep.by_user_as_of_ms, T0 + 200_001);
    let small = PeoplePolicy {
        live_limit: 100,
        ..at(T0 + 200_002)
    };
    let r = fx.ai_usage(&p.id, D0, D1, 50, 0, small).await.unwrap();
    assert_eq!(r.by_user_as_of_ms, T0 + 200_002);

    // Nobody reads it for a day: dropped, not refreshed.
    assert_eq!(
        fx.refresh_ai_people(at(T0 + 200_000 + 2 * DAY))
            .await
            .unwrap(),
        0
    );
    let again = fx
        .ai_usage(&p.id, D0, D1, 50, 0, at(T0 + 200_000 + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(again.by_user_as_of_ms, T0 + 200_000 + 2 * DAY);
}

pub async fn feature_rebuild_matches_incremental(fx: Fixture) {
    let p = fx.project_in("Site", "America/New_York").await;
    let mut history = super::synthetic_history(9, 25);
    for (d, batch) in history.iter_mut().enumerate() {
        let d = d as i64;
        for v in 0..6 {
            let anon = format!("anon-{v}");
            let ts = T0 + d * DAY + v * 3_600_000;
            batch.push(
                event(
                    &anon,
                    &format!("s-{v}-{d}"),
                    ts,
                    if v % 2 == 0 { "export" } else { "share" },
                )
                .into(),
            );
            batch.push(
                ai(
                    &anon,
                    ts + 1,
                    if v % 3 == 0 { "gpt" } else { "claude" },
                    10 * v,
                    d,
                    0.001 * v as f64,
                )
                .into(),
            );
            batch.push(event(&anon, &format!("s-{v}-{d}"), ts + 2, "payment").into());
        }
    }
    fx.ingest_history(&p, history).await;
    let incremental = fx.feature_rollups(&p.id).await.unwrap();
    assert!(!incremental.days.is_empty() && !incremental.user_days.is_empty());
    assert!(!incremental.people.is_empty() && !incremental.ai.is_empty());
    assert!(!incremental.ai_models.is_empty());
    let sketches = super::uniques::checked_sketches(&*fx, &p.id).await;
    assert!(sketches.keys().any(|(m, _, _)| m == "feature"));
    assert!(sketches.keys().any(|(m, _, _)| m == "ai"));
    let (f, t) = (
        vibe_core::day::parse_day("2027-01-10").unwrap(),
        vibe_core::day::parse_day("2027-01-31").unwrap(),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(
        fx.feature_rollups(&p.id).await.unwrap(),
        incremental,
        "rebuild = incremental"
    );
    assert_eq!(
        super::uniques::checked_sketches(&*fx, &p.id).await,
        sketches,
        "sketches rebuild = incremental"
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(
        fx.feature_rollups(&p.id).await.unwrap(),
        incremental,
        "rebuild is idempotent"
    );
}
