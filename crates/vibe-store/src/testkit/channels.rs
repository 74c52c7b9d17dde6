//! Channel settings: stored per project and kind, replaced by a second put,
//! listed by kind, never visible from another project.

use super::fixture::*;
use super::T0;
use crate::channels::ChannelSettings;

fn settings(kind: &str, config: &str, secrets: Option<&str>, enabled: bool) -> ChannelSettings {
    ChannelSettings {
        kind: kind.into(),
        config: config.into(),
        secrets: secrets.map(str::to_owned),
        enabled,
        updated_at: T0,
    }
}

pub async fn channel_settings_per_project_and_kind(fx: Fixture) {
    let a = fx.create_project(&new_project("A"), None).await.unwrap();
    let b = fx.create_project(&new_project("B"), None).await.unwrap();
    assert_eq!(fx.get_channel(&a.id, "email").await.unwrap(), None);
    assert!(fx.list_channels(&a.id).await.unwrap().is_empty());

    let email = settings("email", r#"{"smtp_host":"mx"}"#, Some("c2VhbGVk"), true);
    fx.put_channel(&a.id, &email).await.unwrap();
    let in_app = settings("in_app", "{}", None, false);
    fx.put_channel(&a.id, &in_app).await.unwrap();
    assert_eq!(fx.get_channel(&a.id, "email").await.unwrap(), Some(email));

    // A second put replaces the whole row.
    let mut replaced = settings("email", r#"{"smtp_host":"mx2"}"#, None, false);
    replaced.updated_at = T0 + 1;
    fx.put_channel(&a.id, &replaced).await.unwrap();
    assert_eq!(
        fx.get_channel(&a.id, "email").await.unwrap(),
        Some(replaced.clone())
    );
    let kinds: Vec<String> = fx
        .list_channels(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(kinds, ["email", "in_app"]);

    // Project B sees none of A's, and its own row does not touch A's.
    assert_eq!(fx.get_channel(&b.id, "email").await.unwrap(), None);
    assert!(fx.list_channels(&b.id).await.unwrap().is_empty());
    fx.put_channel(&b.id, &settings("email", "{}", Some("Yg=="), true))
        .await
        .unwrap();
    assert_eq!(
        fx.get_channel(&a.id, "email").await.unwrap(),
        Some(replaced)
    );
}
