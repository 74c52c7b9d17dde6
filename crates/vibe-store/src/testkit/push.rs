//! Web Push: subscriptions are unique per project and endpoint (a second
//! subscribe renews keys and person, keeping id and creation time), listed
//! per person, deleted by endpoint or as a person's by id, marked delivered; they follow a person
//! merged into another; VAPID keys are first-writer-wins; another project
//! sees and touches none of it.

use super::fixture::*;
use super::T0;
use crate::push::{NewPushSubscription, VapidKeys};

fn sub(person: &str, endpoint: &str, p256dh: &str) -> NewPushSubscription {
    NewPushSubscription {
        site_user_id: person.into(),
        endpoint: endpoint.into(),
        p256dh: p256dh.into(),
        auth: "auth-secret".into(),
        user_agent: Some("Firefox".into()),
    }
}

pub async fn push_subscriptions_and_vapid_keys(fx: Fixture) {
    let a = fx.project("A").await;
    let b = fx.project("B").await;
    let e1 = "https://push.example/e1";
    let e2 = "https://push.example/e2";

    let first = fx
        .upsert_push_subscription(&a.id, "s1", &sub("anon-1", e1, "key-1"), T0)
        .await
        .unwrap();
    assert_eq!(
        (
            first.id.as_str(),
            first.site_user_id.as_str(),
            first.p256dh.as_str()
        ),
        ("s1", "anon-1", "key-1")
    );
    assert_eq!(
        (first.created_at, first.updated_at, first.last_success_at),
        (T0, T0, None)
    );
    assert_eq!(first.user_agent.as_deref(), Some("Firefox"));

    // The same endpoint again: the row is renewed, not duplicated.
    let again = fx
        .upsert_push_subscription(&a.id, "s9", &sub("anon-2", e1, "key-2"), T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        (
            again.id.as_str(),
            again.site_user_id.as_str(),
            again.p256dh.as_str()
        ),
        ("s1", "anon-2", "key-2")
    );
    assert_eq!((again.created_at, again.updated_at), (T0, T0 + 5));
    assert!(fx
        .push_subscriptions_of(&a.id, "anon-1")
        .await
        .unwrap()
        .is_empty());
    fx.upsert_push_subscription(&a.id, "s2", &sub("anon-2", e2, "key-3"), T0 + 6)
        .await
        .unwrap();
    let ids: Vec<String> = fx
        .push_subscriptions_of(&a.id, "anon-2")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["s1", "s2"]);

    fx.push_delivered(&a.id, "s2", T0 + 10).await.unwrap();
    let s2 = fx.push_subscription(&a.id, "s2").await.unwrap().unwrap();
    assert_eq!(s2.last_success_at, Some(T0 + 10));

    // Another project: the same endpoint is its own row; A's are invisible.
    assert_eq!(fx.push_subscription(&b.id, "s1").await.unwrap(), None);
    assert!(!fx.delete_push_subscription(&b.id, e1).await.unwrap());
    fx.upsert_push_subscription(&b.id, "s1", &sub("anon-2", e1, "other"), T0)
        .await
        .unwrap();
    assert_eq!(
        fx.push_subscription(&a.id, "s1")
            .await
            .unwrap()
            .unwrap()
            .p256dh,
        "key-2"
    );

    // By id, only as the person's.
    assert!(!fx
        .delete_person_push_subscription(&a.id, "anon-1", "s1")
        .await
        .unwrap());
    assert!(!fx
        .delete_person_push_subscription(&b.id, "anon-2", "s2")
        .await
        .unwrap());
    assert!(fx.push_subscription(&a.id, "s1").await.unwrap().is_some());

    // Deleting by endpoint: once.
    assert!(fx.delete_push_subscription(&a.id, e2).await.unwrap());
    assert!(!fx.delete_push_subscription(&a.id, e2).await.unwrap());
    assert_eq!(fx.push_subscription(&a.id, "s2").await.unwrap(), None);
    assert!(fx.push_subscription(&b.id, "s1").await.unwrap().is_some());
    assert!(fx
        .delete_person_push_subscription(&b.id, "anon-2", "s1")
        .await
        .unwrap());
    assert_eq!(fx.push_subscription(&b.id, "s1").await.unwrap(), None);
    assert!(fx.push_subscription(&a.id, "s1").await.unwrap().is_some());

    // VAPID keys: none until put; a second put keeps the first pair.
    assert_eq!(fx.vapid_keys(&a.id).await.unwrap(), None);
    let k1 = VapidKeys {
        public_key: "pub-1".into(),
        private_key_sealed: "sealed-1".into(),
        created_at: T0,
    };
    let k2 = VapidKeys {
        public_key: "pub-2".into(),
        private_key_sealed: "sealed-2".into(),
        created_at: T0 + 1,
    };
    assert_eq!(fx.put_vapid_keys_if_absent(&a.id, &k1).await.unwrap(), k1);
    assert_eq!(fx.put_vapid_keys_if_absent(&a.id, &k2).await.unwrap(), k1);
    assert_eq!(fx.vapid_keys(&a.id).await.unwrap(), Some(k1));
    assert_eq!(fx.vapid_keys(&b.id).await.unwrap(), None);
    assert_eq!(fx.put_vapid_keys_if_absent(&b.id, &k2).await.unwrap(), k2);
}

/// A browser subscribed while anonymous, then its visitor signs in as a
/// known user on it: the subscription is the user's person's.
pub async fn push_subscriptions_follow_merges(fx: Fixture) {
    let p = fx.project("Site").await;
    fx.ingest(
        &p,
        [
            pageview("dev1", "d1", T0, "/"),
            identify("dev1", "d1", T0 + 1, "u-7"),
        ],
    )
    .await;
    let user = fx.person_of(&p, "dev1").await;
    fx.ingest(&p, [pageview("dev2", "d2", T0 + 10, "/")]).await;
    let anon = fx.person_of(&p, "dev2").await;
    assert_ne!(anon.id, user.id);
    fx.upsert_push_subscription(
        &p.id,
        "s1",
        &sub(&anon.id, "https://push.example/d2", "k"),
        T0 + 11,
    )
    .await
    .unwrap();
    fx.ingest(&p, [identify("dev2", "d2", T0 + 20, "u-7")])
        .await;
    assert_eq!(fx.person_of(&p, "dev2").await.id, user.id);
    let subs = fx.push_subscriptions_of(&p.id, &user.id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].id, "s1");
    assert!(fx
        .push_subscriptions_of(&p.id, &anon.id)
        .await
        .unwrap()
        .is_empty());
}
