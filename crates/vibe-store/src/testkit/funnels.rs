//! Funnel definitions per project and the events their steps match.

use super::fixture::*;
use super::T0;
use crate::funnel::{Funnel, FunnelStep, StepMatch};
use crate::StoreError;

pub async fn funnels_store_and_match_events(fx: Fixture) {
    let p = fx.project("Site").await;
    let other = fx.project("Other").await;
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
    fx.create_funnel(&p.id, &f).await.unwrap();
    assert_eq!(fx.list_funnels(&p.id).await.unwrap(), vec![f.clone()]);
    assert!(fx.list_funnels(&other.id).await.unwrap().is_empty());
    assert!(fx.get_funnel(&other.id, "f1").await.unwrap().is_none());
    assert!(matches!(
        fx.update_funnel(&other.id, &f).await,
        Err(StoreError::NotFound)
    ));
    f.window_days = 3;
    fx.update_funnel(&p.id, &f).await.unwrap();
    assert_eq!(
        fx.get_funnel(&p.id, "f1")
            .await
            .unwrap()
            .unwrap()
            .window_days,
        3
    );

    fx.ingest(
        &p,
        [
            pageview("a", "s", T0, "https://x.io/docs_/intro"),
            pageview("b", "t", T0, "https://x.io/docsX"),
            pageview("a", "s", T0 + 1, "https://x.io/pricing"),
            event("a", "s", T0 + 2, "signup"),
            server_event("server-user", T0 + 3, "signup"),
        ],
    )
    .await;
    let events = fx
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
    assert!(fx
        .funnel_events(&other.id, &f.steps, T0, T0 + 10)
        .await
        .unwrap()
        .is_empty());
    fx.delete_funnel(&p.id, "f1").await.unwrap();
    assert!(matches!(
        fx.delete_funnel(&p.id, "f1").await,
        Err(StoreError::NotFound)
    ));
}
