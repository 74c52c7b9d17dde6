//! Identity verification. The write key is public, so without it any visitor
//! can send `vibeIdentify("someone-else")` and be merged into that person.
//! With verification on, a browser's `user_id` counts only together with
//! `user_hash = hex(HMAC-SHA256(key = project identity secret, message = user_id))`,
//! which the site's backend computes (the convention of Intercom and Crisp):
//! - an `identify` without a valid `user_hash` rejects the request (401);
//! - any other message whose `user_id` is not signed has it removed, so it
//!   counts for its anonymous id (page views are never lost because a tab
//!   still remembers an old, unsigned user id).
//!
//! Server-side `/track` and `/identify` use secret keys and are not checked.

use axum::http::StatusCode;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use vibe_store::{Store, StoreResult};

use crate::error::{ApiError, ApiResult};
use crate::secrets::{hex, random_token};
use crate::state::TtlCache;

pub const SECRET_PREFIX: &str = "vis_";

pub fn new_secret() -> String {
    random_token(SECRET_PREFIX)
}

fn mac(secret: &str, user_id: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    mac
}

/// The `user_hash` for `user_id` (what a site's backend computes).
pub fn user_hash(secret: &str, user_id: &str) -> String {
    hex(&mac(secret, user_id).finalize().into_bytes())
}

/// Constant-time check of a hex `user_hash` (either case).
pub fn verify(secret: &str, user_id: &str, given: &str) -> bool {
    let Some(bytes) = decode_hex(given) else {
        return false;
    };
    mac(secret, user_id).verify_slice(&bytes).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks a browser batch against the project's secret, in place: unsigned
/// `user_id`s of non-identify messages are removed, so the collector does not
/// copy a batch that is already in memory.
pub fn verify_batch(secret: &str, batch: &mut [Value]) -> ApiResult<()> {
    for (i, raw) in batch.iter_mut().enumerate() {
        // Not an object: Message::parse names the error.
        let Some(obj) = raw.as_object_mut() else {
            continue;
        };
        let Some(user_id) = obj.get("user_id").and_then(Value::as_str) else {
            continue;
        };
        let signed = obj
            .get("user_hash")
            .and_then(Value::as_str)
            .is_some_and(|h| verify(secret, user_id, h));
        if signed {
            continue;
        }
        if obj.get("type").and_then(Value::as_str) == Some("identify") {
            return Err(ApiError::field(
                "invalid_user_hash",
                &format!("batch[{i}].user_hash"),
                "this project verifies identities: send user_hash = HMAC-SHA256(user_id, identity secret) from your backend",
            )
            .with_status(StatusCode::UNAUTHORIZED));
        }
        obj.remove("user_id");
    }
    Ok(())
}

/// Project id → the identity secret when verification is required, cached
/// like write keys so the collector does not query for it on every request.
pub type IdentityCache = TtlCache<Option<String>>;

impl IdentityCache {
    /// `Some(secret)` when the project requires signed user ids.
    pub async fn required_secret(
        &self,
        store: &dyn Store,
        project_id: &str,
    ) -> StoreResult<Option<String>> {
        self.get_or_load(project_id, || async {
            Ok(store
                .identity_verification(project_id)
                .await?
                .filter(|v| v.required)
                .and_then(|v| v.secret))
        })
        .await
    }

    pub fn invalidate(&self, project_id: &str) {
        self.remove(project_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_hash_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let h = user_hash("vis_s", "user-42");
        assert!(verify("vis_s", "user-42", &h));
        assert!(verify("vis_s", "user-42", &h.to_uppercase()));
        assert!(!verify("vis_s", "user-43", &h));
        assert!(!verify("vis_other", "user-42", &h));
        assert!(!verify("vis_s", "user-42", "zz"));
        assert!(!verify("vis_s", "user-42", &"é".repeat(32)));
    }

    #[test]
    fn unsigned_identifies_are_rejected_and_other_user_ids_dropped() {
        let good = user_hash("k", "u1");
        let mut batch = vec![
            json!({"type": "pageview", "user_id": "u1", "anonymous_id": "a"}),
            json!({"type": "identify", "user_id": "u1", "user_hash": good}),
            json!({"type": "event", "user_id": "u1", "user_hash": good}),
        ];
        verify_batch("k", &mut batch).unwrap();
        assert!(batch[0].get("user_id").is_none());
        assert_eq!(batch[1]["user_id"], "u1");
        assert_eq!(batch[2]["user_id"], "u1");
        let mut forged = vec![json!({"type": "identify", "user_id": "u2", "user_hash": good})];
        let e = verify_batch("k", &mut forged).unwrap_err();
        assert!(
            matches!(e, ApiError::Client { status, field: Some(ref f), .. }
            if status == StatusCode::UNAUTHORIZED && f == "batch[0].user_hash")
        );
    }
}
