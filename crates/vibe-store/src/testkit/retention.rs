//! `retention_cohorts`: kept by ingest through returns, late older events and
//! merges, equal to a rebuild, and reported with `null` for days not reached.

use jiff::civil::Date;
use vibe_core::day::parse_day;

use super::fixture::*;
use super::T0;
use crate::retention::report::{report, Grain};
use crate::*;

const DAY: i64 = 86_400_000;

fn date(n: i64) -> Date {
    // T0 is 2027-01-15 08:00 UTC: day 0.
    parse_day("2027-01-15")
        .unwrap()
        .checked_add(jiff::Span::new().days(n))
        .unwrap()
}

async fn cells(fx: &Fixture, p: &Project) -> Vec<(String, i64, i64)> {
    fx.retention_all_cells(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.cohort_day, c.offset_days, c.people))
        .collect()
}

fn expect(rows: &[(i64, i64, i64)]) -> Vec<(String, i64, i64)> {
    rows.iter()
        .map(|(c, off, n)| (date(*c).to_string(), *off, *n))
        .collect()
}

pub async fn retention_follows_ingest(fx: Fixture) {
    let p = fx.project("Site").await;
    let at = |n: i64| T0 + n * DAY;
    let pv = |anon: &str, n: i64| pageview(anon, &format!("{anon}-{n}"), at(n), "/");

    // Day 0's cohort: a comes back on days 1, 7 and 30, b on day 7, c never.
    fx.ingest(&p, [pv("a", 0), pv("b", 0), pv("c", 0)]).await;
    fx.ingest(&p, [pv("a", 1)]).await;
    fx.ingest(&p, [pv("a", 7), pv("b", 7)]).await;
    fx.ingest(&p, [pv("a", 30)]).await;
    // A second visit the same day counts once.
    fx.ingest(&p, [pageview("a", "a-30b", at(30) + 1000, "/x")])
        .await;
    assert_eq!(
        cells(&fx, &p).await,
        expect(&[(0, 0, 3), (0, 1, 1), (0, 7, 2), (0, 30, 1)])
    );

    // d is first seen on day 2 and back on day 3 …
    fx.ingest(&p, [pv("d", 2), pv("d", 3)]).await;
    assert!(cells(&fx, &p).await.contains(&(date(2).to_string(), 1, 1)));
    // … then an older event of day 1 arrives: d moves to day 1's cohort
    // with all their days (1, 2, 3).
    fx.ingest(&p, [pv("d", 1)]).await;

    // e is first seen on day 5 and signs in on day 6; f, first seen on day 3
    // and active on day 4, signs in as the same user on day 8: one person of
    // day 3's cohort (the earlier first day), active on days 3, 4, 5, 6, 8.
    fx.ingest(&p, [pv("e", 5), identify("e", "e-6", at(6), "u1")])
        .await;
    fx.ingest(&p, [pv("f", 3), pv("f", 4)]).await;
    fx.ingest(&p, [identify("f", "f-8", at(8), "u1")]).await;
    assert_eq!(fx.person_of(&p, "f").await.id, "e", "f merged into e");

    let expected = expect(&[
        (0, 0, 3),
        (0, 1, 1),
        (0, 7, 2),
        (0, 30, 1),
        (1, 0, 1),
        (1, 1, 1),
        (1, 2, 1),
        (3, 0, 1),
        (3, 1, 1),
        (3, 2, 1),
        (3, 3, 1),
        (3, 5, 1),
    ]);
    assert_eq!(cells(&fx, &p).await, expected, "moves and merges");

    // A rebuild from events yields the same cells.
    rollup::rebuild(&*fx, &p, date(-1), date(40)).await.unwrap();
    assert_eq!(cells(&fx, &p).await, expected, "rebuild = incremental");

    // The report on day 31: every cohort of days 0 … 5 reached day 7; day 30
    // is reached by days 0 … 1 only.
    let r = report(&*fx, &p.id, Grain::Day, date(0), date(5), date(31))
        .await
        .unwrap();
    let row = |i: usize| {
        let c = &r.cohorts[i];
        let at = |k: &str| c.retained[k];
        (c.cohort.clone(), c.size, at("1"), at("7"), at("30"))
    };
    assert_eq!(r.cohorts.len(), 6);
    assert_eq!(row(0), (date(0).to_string(), 3, Some(1), Some(2), Some(1)));
    assert_eq!(row(1), (date(1).to_string(), 1, Some(1), Some(0), Some(0)));
    assert_eq!(row(2), (date(2).to_string(), 0, Some(0), Some(0), None));
    assert_eq!(row(3), (date(3).to_string(), 1, Some(1), Some(0), None));
    assert_eq!(row(5), (date(5).to_string(), 0, Some(0), Some(0), None));
    assert_eq!(r.cohorts[0].pct["1"], Some(33.3));
    assert_eq!(r.cohorts[0].pct["7"], Some(66.7));
    assert_eq!(r.cohorts[2].pct["1"], None, "an empty cohort has no share");
    assert_eq!(r.cohorts[3].pct["30"], None, "not reached: null, not 0");
    // Weighted over the cohorts that reached the day: 3 of 5, 2 of 5, 1 of 4.
    assert_eq!(
        (r.overall.day1, r.overall.day7, r.overall.day30),
        (Some(60.0), Some(40.0), Some(25.0))
    );

    // On day 5, day 7 is not reached by anyone yet, and today's cohort has
    // not reached day 1.
    let r = report(&*fx, &p.id, Grain::Day, date(0), date(7), date(5))
        .await
        .unwrap();
    assert_eq!(r.cohorts[0].retained["1"], Some(1));
    assert_eq!(r.cohorts[0].retained["7"], None);
    assert_eq!(r.cohorts[4].retained["1"], Some(0));
    assert_eq!(r.cohorts[5].retained["1"], None, "today + 1 is tomorrow");
    assert_eq!(r.cohorts[7].retained["1"], None, "a future cohort");
    assert_eq!(r.overall.day7, None);

    // Weeks (Monday to Sunday): day 0 is a Friday. The week of days −4 … 2
    // reaches day 30 only when its Sunday (day 2) has: not on day 31.
    let r = report(&*fx, &p.id, Grain::Week, date(0), date(5), date(31))
        .await
        .unwrap();
    assert_eq!(
        (r.from.as_str(), r.to.as_str()),
        ("2027-01-11", "2027-01-24")
    );
    let weeks: Vec<_> = r
        .cohorts
        .iter()
        .map(|c| {
            (
                c.cohort.as_str(),
                c.size,
                c.retained["1"],
                c.retained["7"],
                c.retained["30"],
            )
        })
        .collect();
    assert_eq!(
        weeks,
        [
            ("2027-01-11", 4, Some(2), Some(2), None),
            ("2027-01-18", 1, Some(1), Some(0), None),
        ]
    );
    assert_eq!(r.overall.day30, None);
    assert_eq!(r.overall.day1, Some(60.0));
}
