//! `daily_stats` and `user_days`: kept by ingest, through retries, merges and
//! local days, and rebuilt from events to the same figures.

use vibe_core::Message;

use super::fixture::*;
use super::T0;
use crate::*;

fn day(store_rows: &[rollup::DailyStats], day: &str) -> rollup::DailyDelta {
    store_rows
        .iter()
        .find(|r| r.day == day)
        .map(|r| r.counts)
        .unwrap_or_default()
}

pub async fn rollups_follow_ingest(fx: Fixture) {
    let p = fx.project("Site").await;
    // T0 is 2027-01-15 08:00 UTC.
    let d0 = "2027-01-15";
    let pv = |anon: &str, sid: &str, ts: i64| pageview(anon, sid, ts, "/");
    fx.ingest(
        &p,
        [
            pv("a", "a1", T0),
            pv("a", "a1", T0 + 60_000),
            event("a", "a1", T0 + 90_000, "signup"),
            pv("b", "b1", T0 + 1000),
        ],
    )
    .await;
    // A heartbeat extends a's session; b's stays a single page view (a bounce).
    fx.ingest(&p, [heartbeat("a", "a1", T0 + 120_000)]).await;
    let rows = fx.daily_stats(&p.id, d0, d0).await.unwrap();
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
    fx.ingest(&p, [pv("a", "a2", next), pv("c", "c1", next)])
        .await;
    let rows = fx.daily_stats(&p.id, d0, "2027-01-16").await.unwrap();
    let r = day(&rows, "2027-01-16");
    assert_eq!(
        (r.active_users, r.new_users, r.sessions, r.bounces),
        (2, 1, 2, 2)
    );
    assert_eq!(day(&rows, d0).active_users, 2, "earlier days are untouched");
    assert_eq!(fx.user_days(&p.id).await.unwrap().len(), 4);

    // Retries change nothing.
    let m: Message = pv("d", "d1", next + 5).into();
    fx.ingest(&p, [m.clone()]).await;
    fx.ingest(&p, [m]).await;
    let r = day(
        &fx.daily_stats(&p.id, "2027-01-16", "2027-01-16")
            .await
            .unwrap(),
        "2027-01-16",
    );
    assert_eq!((r.active_users, r.new_users, r.pageviews), (3, 2, 3));

    // Days are local: 23:30 UTC is the next day in Amsterdam.
    let nl = fx.project_in("NL", "Europe/Amsterdam").await;
    let late = T0 + 15 * 3_600_000 + 30 * 60_000;
    fx.ingest(&nl, [pv("x", "x1", late)]).await;
    let rows = fx.daily_stats(&nl.id, d0, "2027-01-16").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.day.as_str()).collect::<Vec<_>>(),
        ["2027-01-16"]
    );

    // Online counts, now and at a past moment.
    assert_eq!(fx.count_online(&p.id, next).await.unwrap(), 3);
    assert_eq!(fx.online_at(&p.id, T0 + 100_000, 300_000).await.unwrap(), 2);
    assert_eq!(
        fx.online_at(&p.id, T0 + 1_000_000, 300_000).await.unwrap(),
        0
    );

    // Churn: a and b active on day 0; only a came back on day 1.
    assert_eq!(
        fx.churn_counts(&p.id, (d0, d0), ("2027-01-16", "2027-01-16"))
            .await
            .unwrap(),
        (2, 1)
    );
    assert_eq!(
        fx.churn_counts(&p.id, ("2020-01-01", "2020-01-01"), (d0, d0))
            .await
            .unwrap(),
        (0, 0)
    );
}

pub async fn rollups_follow_merges(fx: Fixture) {
    let p = fx.project("Site").await;
    let d0 = "2027-01-15";
    // The user on device 1 yesterday and today; device 2 (anonymous) today first.
    fx.ingest(
        &p,
        [
            identify("dev1", "s1", T0 - 86_400_000, "u"),
            pageview("dev1", "s2", T0, "/"),
            pageview("dev2", "s3", T0 + 10, "/"),
        ],
    )
    .await;
    let r = day(&fx.daily_stats(&p.id, d0, d0).await.unwrap(), d0);
    assert_eq!((r.active_users, r.new_users), (2, 1));
    // Device 2 signs in: one person, active once today, new yesterday only.
    fx.ingest(&p, [identify("dev2", "s3", T0 + 20, "u")]).await;
    let rows = fx.daily_stats(&p.id, "2027-01-14", d0).await.unwrap();
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
                batch.push(pageview(&anon, &sid, ts, &format!("https://x.io/p{p}")).into());
                ts += 20_000 + rnd(60_000) as i64;
            }
            if rnd(2) == 0 {
                batch.push(event(&anon, &sid, ts, "click").into());
            }
            batch.push(heartbeat(&anon, &sid, ts + 30_000).into());
            if rnd(6) == 0 {
                // Visitors v and v+1 are the same person on two devices.
                let user = format!("user-{}", v / 2);
                batch.push(identify(&anon, &sid, ts + 31_000, &user).into());
            }
        }
        batch.push(server_event("backend-only", T0 + d * 86_400_000 + 5, "invoice").into());
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
            .map_or((0, 0), |r| (r.counts.churn_base, r.counts.churned));
        assert_eq!(kept, expected, "churn (base, churned) on {d}");
        checked_nonzero |= expected.1 > 0;
    }
    assert!(checked_nonzero, "the history has churned people");
}

pub async fn rebuild_matches_incremental(fx: Fixture) {
    let p = fx.project_in("Site", "America/New_York").await;
    fx.ingest_history(&p, synthetic_history(9, 25)).await;
    let (from, to) = ("2027-01-10", "2027-01-31");
    let incremental = fx.daily_stats(&p.id, from, to).await.unwrap();
    let incremental_days = fx.user_days(&p.id).await.unwrap();
    let incremental_retention = fx.retention_all_cells(&p.id).await.unwrap();
    assert!(incremental_retention.iter().any(|c| c.offset_days > 0));
    assert!(incremental.len() >= 9 && incremental.iter().any(|r| r.counts.new_users > 0));
    assert!(incremental.iter().any(|r| r.counts.signups > 0));
    assert_churn_matches(&*fx, &p, from, to).await;
    let sketches = super::uniques::checked_sketches(&*fx, &p.id).await;
    assert!(sketches.keys().any(|(m, _, _)| m == "active"));

    let (f, t) = (
        vibe_core::day::parse_day(from).unwrap(),
        vibe_core::day::parse_day(to).unwrap(),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(
        fx.daily_stats(&p.id, from, to).await.unwrap(),
        incremental,
        "rebuild = incremental"
    );
    assert_eq!(fx.user_days(&p.id).await.unwrap(), incremental_days);
    assert_eq!(
        super::uniques::checked_sketches(&*fx, &p.id).await,
        sketches,
        "sketches rebuild = incremental"
    );
    assert_eq!(
        fx.retention_all_cells(&p.id).await.unwrap(),
        incremental_retention,
        "retention rebuild = incremental"
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(
        fx.daily_stats(&p.id, from, to).await.unwrap(),
        incremental,
        "rebuild is idempotent"
    );
}

/// A signup is a user id the project had never seen, on the local day of its
/// first stored message: a second device of the same user, a retried
/// message or a later identify are not signups; a backend's first event for
/// a new user is. The rebuild finds the same days.
pub async fn signups_count_new_user_ids_once(fx: Fixture) {
    let p = fx.project("Site").await;
    let day_ms = 86_400_000;
    fx.ingest(
        &p,
        [
            identify("a", "s1", T0, "u1"),
            identify("b", "s2", T0 + 1_000, "u1"),
            server_event("u2", T0 + 2_000, "renewed"),
            heartbeat("h", "s9", T0 + 3_000),
        ],
    )
    .await;
    let next_day: Vec<Message> = vec![
        identify("c", "s3", T0 + day_ms, "u1").into(),
        identify("d", "s4", T0 + day_ms + 5, "u3").into(),
        pageview("d", "s4", T0 + day_ms + 9, "/")
            .with("user_id", "u3")
            .into(),
    ];
    let outcome = fx.ingest_jobs(&[job(&p, next_day.clone())]).await;
    assert_eq!(outcome[0].accepted, 3);
    let retry = fx.ingest_jobs(&[job(&p, next_day)]).await;
    assert_eq!(retry[0].duplicates, 3);

    let (d0, d1) = ("2027-01-15", "2027-01-16");
    let rows = fx.daily_stats(&p.id, d0, d1).await.unwrap();
    assert_eq!((day(&rows, d0).signups, day(&rows, d1).signups), (2, 1));

    let (f, t) = (
        vibe_core::day::parse_day(d0).unwrap(),
        vibe_core::day::parse_day(d1).unwrap(),
    );
    rollup::rebuild(&*fx, &p, f, t).await.unwrap();
    assert_eq!(fx.daily_stats(&p.id, d0, d1).await.unwrap(), rows);
}
