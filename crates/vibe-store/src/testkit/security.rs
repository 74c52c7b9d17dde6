//! Setup tokens, session clean-up and identity verification settings.

use super::fixture::Fixture;
use super::T0;
use crate::*;

pub async fn setup_token_is_single_use(fx: Fixture) {
    assert_eq!(
        fx.claim_setup_token("h-a", T0).await.unwrap(),
        SetupClaim::Done,
        "no token yet"
    );
    // Two nodes started without an owner, each with its own token.
    fx.create_setup_token("h-a", T0).await.unwrap();
    fx.create_setup_token("h-b", T0).await.unwrap();
    assert_eq!(
        fx.claim_setup_token("h-wrong", T0).await.unwrap(),
        SetupClaim::WrongToken
    );
    assert_eq!(
        fx.claim_setup_token("h-a", T0 + 1).await.unwrap(),
        SetupClaim::Claimed
    );
    // Used once: neither it nor the other node's token works again.
    assert_eq!(
        fx.claim_setup_token("h-a", T0 + 2).await.unwrap(),
        SetupClaim::Done
    );
    assert_eq!(
        fx.claim_setup_token("h-b", T0 + 2).await.unwrap(),
        SetupClaim::Done
    );
    // Creating the owner failed: the token may be used again.
    fx.release_setup_token("h-a").await.unwrap();
    assert_eq!(
        fx.claim_setup_token("h-b", T0 + 3).await.unwrap(),
        SetupClaim::WrongToken
    );
    // An owner made some other way (CLI, another node) closes setup.
    fx.account("owner@example.com", Role::Owner).await;
    assert_eq!(
        fx.claim_setup_token("h-a", T0 + 4).await.unwrap(),
        SetupClaim::Done
    );
}

/// Concurrent claims with every outstanding token: exactly one wins.
pub async fn concurrent_setup_claims_have_one_winner(fx: Fixture) {
    for i in 0..8 {
        fx.create_setup_token(&format!("h-{i}"), T0).await.unwrap();
    }
    let claims = (0..8).map(|i| {
        let store = fx.shared();
        tokio::spawn(async move { store.claim_setup_token(&format!("h-{i}"), T0).await })
    });
    let mut won = 0;
    for c in claims {
        if c.await.expect("task").unwrap() == SetupClaim::Claimed {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub async fn auth_sessions_are_purged_and_signed_out_everywhere(fx: Fixture) {
    let a = fx.account("a@example.com", Role::Owner).await;
    let b = fx.account("b@example.com", Role::Viewer).await;
    for (hash, who, expires) in [
        ("a1", &a, T0 + 10),
        ("a2", &a, T0 + 1000),
        ("a3", &a, T0 + 1000),
        ("b1", &b, T0 + 1000),
    ] {
        fx.create_auth_session(&NewAuthSession {
            token_hash: hash.into(),
            account_id: who.id.clone(),
            created_at: T0,
            expires_at: expires,
        })
        .await
        .unwrap();
    }
    assert_eq!(fx.purge_expired_auth_sessions(T0 + 9).await.unwrap(), 0);
    assert_eq!(fx.purge_expired_auth_sessions(T0 + 10).await.unwrap(), 1);
    assert_eq!(fx.delete_auth_sessions_of(&a.id).await.unwrap(), 2);
    assert_eq!(fx.account_for_session("a2", T0).await.unwrap(), None);
    assert_eq!(
        fx.account_for_session("b1", T0).await.unwrap(),
        Some(b.clone()),
        "other accounts stay signed in"
    );
}

pub async fn identity_verification_settings(fx: Fixture) {
    let p = fx.project("Shop").await;
    let other = fx.project("Other").await;
    let off = IdentityVerification {
        required: false,
        secret: None,
    };
    assert_eq!(
        fx.identity_verification(&p.id).await.unwrap(),
        Some(off.clone())
    );
    assert_eq!(fx.identity_verification("nope").await.unwrap(), None);
    let on = fx
        .set_identity_verification(&p.id, Some(true), Some("vis_1"))
        .await
        .unwrap();
    assert!(on.required);
    assert_eq!(on.secret.as_deref(), Some("vis_1"));
    // Rotating keeps the switch; switching keeps the secret.
    let rotated = fx
        .set_identity_verification(&p.id, None, Some("vis_2"))
        .await
        .unwrap();
    assert!(rotated.required && rotated.secret.as_deref() == Some("vis_2"));
    let switched = fx
        .set_identity_verification(&p.id, Some(false), None)
        .await
        .unwrap();
    assert!(!switched.required && switched.secret.as_deref() == Some("vis_2"));
    assert_eq!(
        fx.identity_verification(&other.id).await.unwrap(),
        Some(off)
    );
    assert!(matches!(
        fx.set_identity_verification("nope", Some(true), None).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        !format!("{switched:?}").contains("vis_2"),
        "secrets do not print"
    );
}
