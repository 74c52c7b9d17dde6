//! A project's VAPID key pair, generated on first use and kept in the store
//! with its private half sealed by the vault (owner `push-vapid:{project}`,
//! so a sealed key copied to another project's row does not open there).
//! Two nodes generating at once both end up with the one stored first.

use base64::Engine;
use vibe_store::push::VapidKeys;

use super::vapid::VapidKey;
use crate::state::AppState;

fn owner(project_id: &str) -> String {
    format!("push-vapid:{project_id}")
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] vibe_store::StoreError),
    /// Sealed under another `VIBE_SECRET_KEY`, or damaged: not replaced,
    /// since every subscription made with the old public key depends on it.
    #[error("the project's VAPID key does not open: {0}")]
    Sealed(String),
}

/// The project's key pair, created and stored if it has none.
pub async fn project_key(state: &AppState, project_id: &str) -> Result<VapidKey, KeyError> {
    let stored = match state.store.vapid_keys(project_id).await? {
        Some(k) => k,
        None => {
            let key = VapidKey::generate();
            let sealed = base64::engine::general_purpose::STANDARD
                .encode(state.vault.seal(&owner(project_id), &key.private_bytes()));
            let new = VapidKeys {
                public_key: key.public_key(),
                private_key_sealed: sealed,
                created_at: state.clock.now_ms(),
            };
            state
                .store
                .put_vapid_keys_if_absent(project_id, &new)
                .await?
        }
    };
    open(state, project_id, &stored)
}

fn open(state: &AppState, project_id: &str, stored: &VapidKeys) -> Result<VapidKey, KeyError> {
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored.private_key_sealed.trim())
        .map_err(|_| KeyError::Sealed("not base64".into()))?;
    let bytes = state
        .vault
        .open(&owner(project_id), &sealed)
        .map_err(|e| KeyError::Sealed(e.to_string()))?;
    let key = VapidKey::from_private_bytes(&bytes)
        .ok_or_else(|| KeyError::Sealed("not a P-256 private key".into()))?;
    if key.public_key() != stored.public_key {
        return Err(KeyError::Sealed(
            "the private key does not match the stored public key".into(),
        ));
    }
    Ok(key)
}
