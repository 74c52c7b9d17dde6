//! Accounts, sign-in sessions, API tokens, projects and their members and keys.

use super::fixture::{account, new_project, Fixture};
use super::T0;
use crate::*;

pub async fn accounts_and_sessions(fx: Fixture) {
    let a = fx.account("ada@example.com", Role::Owner).await;
    assert!(matches!(
        fx.create_account(&account("ada@example.com", Role::Viewer))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = fx
        .account_by_email("ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.account, a);
    assert_eq!(found.password_hash, "$argon2id$fake");
    assert!(fx
        .account_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());
    assert_eq!(fx.count_owners().await.unwrap(), 1);

    let s = NewAuthSession {
        token_hash: "h1".into(),
        account_id: a.id.clone(),
        created_at: T0,
        expires_at: T0 + 1000,
    };
    fx.create_auth_session(&s).await.unwrap();
    assert_eq!(
        fx.account_for_session("h1", T0).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        fx.account_for_session("h1", T0 + 1000).await.unwrap(),
        None,
        "expired"
    );
    fx.delete_auth_session("h1").await.unwrap();
    assert_eq!(fx.account_for_session("h1", T0).await.unwrap(), None);
}

pub async fn api_tokens(fx: Fixture) {
    let a = fx.account("a@example.com", Role::Owner).await;
    let b = fx.account("b@example.com", Role::Viewer).await;
    let t = NewApiToken {
        id: "t1".into(),
        account_id: a.id.clone(),
        name: "ci".into(),
        token_hash: "th".into(),
        prefix: "vbt_abcd".into(),
        created_at: T0,
    };
    fx.create_api_token(&t).await.unwrap();
    assert_eq!(
        fx.account_for_api_token("th", T0).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        fx.list_api_tokens(&a.id).await.unwrap()[0].last_used_at,
        Some(T0)
    );
    assert!(fx.list_api_tokens(&b.id).await.unwrap().is_empty());
    assert!(matches!(
        fx.revoke_api_token(&b.id, "t1", T0).await,
        Err(StoreError::NotFound)
    ));
    fx.revoke_api_token(&a.id, "t1", T0).await.unwrap();
    assert_eq!(fx.account_for_api_token("th", T0).await.unwrap(), None);
}

pub async fn projects_and_membership(fx: Fixture) {
    let a = fx.account("a@example.com", Role::Owner).await;
    let b = fx.account("b@example.com", Role::Viewer).await;
    let mut np = new_project("Shop");
    np.allowed_origins = vec!["https://shop.example".into()];
    let p = fx.create_project(&np, Some(&a.id)).await.unwrap();
    assert_eq!(p.allowed_origins, vec!["https://shop.example".to_string()]);
    assert_eq!(
        fx.projects_for_account(&a.id).await.unwrap(),
        vec![p.clone()]
    );
    assert!(fx.projects_for_account(&b.id).await.unwrap().is_empty());
    assert_eq!(
        fx.project_for_member(&p.id, &a.id).await.unwrap(),
        Some((p.clone(), Role::Owner))
    );
    assert_eq!(fx.project_for_member(&p.id, &b.id).await.unwrap(), None);
    fx.add_member(&p.id, &b.id, Role::Viewer, T0).await.unwrap();
    assert_eq!(
        fx.project_for_member(&p.id, &b.id).await.unwrap(),
        Some((p.clone(), Role::Viewer))
    );
    assert_eq!(
        fx.project_by_write_key(&p.write_key).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(fx.project_by_write_key("wk_nope").await.unwrap(), None);
    assert_eq!(fx.list_projects().await.unwrap().len(), 1);
    let changed = fx
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
    let changed = fx
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
        fx.update_project("nope", &ProjectChanges::default()).await,
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
    fx.create_project_key(&k).await.unwrap();
    assert_eq!(
        fx.project_by_secret_key("kh").await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(fx.list_project_keys(&p.id).await.unwrap().len(), 1);
    let other = fx
        .create_project(&new_project("Other"), Some(&b.id))
        .await
        .unwrap();
    assert!(matches!(
        fx.revoke_project_key(&other.id, "k1", T0).await,
        Err(StoreError::NotFound)
    ));
    fx.revoke_project_key(&p.id, "k1", T0).await.unwrap();
    assert_eq!(fx.project_by_secret_key("kh").await.unwrap(), None);
}

/// The first owner or admin claims every project without one: a project
/// whose only members are agents (the demo's staff) is claimed, one with an
/// owner is not, and a project the account already belongs to is no error.
pub async fn first_owner_claims_ownerless_projects(fx: Fixture) {
    let staffed = fx.project("Staffed").await;
    let owned = fx.project("Owned").await;
    let joined = fx.project("Joined").await;
    let agent = fx.account("agent@example.com", Role::Agent).await;
    let other = fx.account("other@example.com", Role::Owner).await;
    let owner = fx.account("owner@example.com", Role::Owner).await;
    fx.add_member(&staffed.id, &agent.id, Role::Agent, T0)
        .await
        .unwrap();
    fx.add_member(&owned.id, &other.id, Role::Owner, T0)
        .await
        .unwrap();
    fx.add_member(&joined.id, &owner.id, Role::Viewer, T0)
        .await
        .unwrap();
    fx.claim_unowned_projects(&owner.id, Role::Owner, T0)
        .await
        .unwrap();
    let mine: Vec<String> = fx
        .projects_for_account(&owner.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(mine.contains(&"Staffed".to_string()), "{mine:?}");
    assert!(!mine.contains(&"Owned".to_string()), "{mine:?}");
    assert!(mine.contains(&"Joined".to_string()), "{mine:?}");
}
