//! VAPID (RFC 8292): how a push service knows which application server sends.
//!
//! Each project has one P-256 key pair ([`VapidKey`]; generated on first use
//! and kept sealed by [`super::keys`]). The browser subscribes with the public
//! key (`applicationServerKey`), and every push request carries
//! `Authorization: vapid t=<JWT>, k=<public key>`: an ES256 JWT whose `aud`
//! is the push service's origin, `exp` at most 24 hours ahead (we use
//! [`TOKEN_LIFETIME_S`]) and `sub` a contact URI (`mailto:` or `https:`) the
//! push service's operator can reach. The push service refuses a request
//! whose key is not the one the subscription was made with. Pure: the time
//! comes in as an argument.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::SecretKey;
use serde_json::json;

/// How long a token is valid: well under the 24 h RFC 8292 allows, so a
/// push service's clock running fast does not refuse it.
pub const TOKEN_LIFETIME_S: i64 = 12 * 3600;
const _: () = assert!(
    TOKEN_LIFETIME_S <= 24 * 3600,
    "RFC 8292 §2: exp at most 24 h ahead"
);

/// A project's VAPID key pair. `Debug` never prints the private half.
#[derive(Clone)]
pub struct VapidKey {
    secret: SecretKey,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VapidKey({})", self.public_key())
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

impl VapidKey {
    pub fn generate() -> Self {
        Self {
            secret: SecretKey::random(&mut rand::thread_rng()),
        }
    }

    /// The key from its 32-byte private scalar; `None` when it is not one
    /// (not 32 bytes, zero, or not below the curve order). Exactly 32:
    /// `SecretKey::from_slice` would zero-pad a shorter slice.
    pub fn from_private_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        SecretKey::from_slice(bytes)
            .ok()
            .map(|secret| Self { secret })
    }

    /// The 32-byte private scalar: what is sealed in the database.
    pub fn private_bytes(&self) -> Vec<u8> {
        self.secret.to_bytes().to_vec()
    }

    /// The public key as the browser's `applicationServerKey` and the `k=`
    /// parameter take it: the uncompressed point (65 bytes), base64url
    /// without padding.
    pub fn public_key(&self) -> String {
        b64().encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    /// The ES256 JWT for a push service at `audience` (its origin,
    /// `https://host[:port]`), valid until `now_s + TOKEN_LIFETIME_S`.
    pub fn token(&self, audience: &str, subject: &str, now_s: i64) -> String {
        let header = b64().encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = json!({
            "aud": audience,
            "exp": now_s + TOKEN_LIFETIME_S,
            "sub": subject,
        });
        let claims = b64().encode(claims.to_string().as_bytes());
        let input = format!("{header}.{claims}");
        // JWS ES256 (RFC 7518 §3.4): the signature is r ‖ s, 32 bytes each.
        let signature: Signature = SigningKey::from(&self.secret).sign(input.as_bytes());
        format!("{input}.{}", b64().encode(signature.to_bytes()))
    }

    /// The `Authorization` header value of one push request.
    pub fn authorization(&self, audience: &str, subject: &str, now_s: i64) -> String {
        format!(
            "vapid t={}, k={}",
            self.token(audience, subject, now_s),
            self.public_key()
        )
    }
}

/// The origin of a push endpoint (`scheme://host[:port]`), the token's `aud`.
pub fn audience(endpoint: &reqwest::Url) -> String {
    endpoint.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;
    use serde_json::Value;

    #[test]
    fn tokens_verify_under_the_public_key() {
        let key = VapidKey::generate();
        let auth = key.authorization("https://push.example.net", "mailto:ops@shop.example", 1_000);
        let (t, k) = auth
            .strip_prefix("vapid t=")
            .and_then(|rest| rest.split_once(", k="))
            .expect("vapid t=…, k=…");
        assert_eq!(k, key.public_key());
        let public = b64().decode(k).unwrap();
        assert_eq!((public.len(), public[0]), (65, 4), "uncompressed point");

        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&b64().decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        let claims: Value = serde_json::from_slice(&b64().decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["sub"], "mailto:ops@shop.example");
        assert_eq!(claims["exp"], 1_000 + TOKEN_LIFETIME_S);

        let verifying = VerifyingKey::from_sec1_bytes(&public).unwrap();
        let sig = Signature::from_slice(&b64().decode(parts[2]).unwrap()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(input.as_bytes(), &sig).is_ok());
        assert!(verifying.verify(b"something else", &sig).is_err());
        let other = VerifyingKey::from(SigningKey::from(&VapidKey::generate().secret));
        assert!(other.verify(input.as_bytes(), &sig).is_err());
    }

    #[test]
    fn private_bytes_round_trip_and_refusals() {
        let key = VapidKey::generate();
        let again = VapidKey::from_private_bytes(&key.private_bytes()).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        assert!(VapidKey::from_private_bytes(&[0; 32]).is_none());
        assert!(VapidKey::from_private_bytes(&[0xff; 32]).is_none());
        assert!(VapidKey::from_private_bytes(&[1; 31]).is_none());
        assert!(!format!("{key:?}").contains(&crate::secrets::hex(&key.private_bytes())));
    }

    #[test]
    fn audience_is_the_origin() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(
            audience(&url("https://fcm.googleapis.com/fcm/send/abc:def")),
            "https://fcm.googleapis.com"
        );
        assert_eq!(
            audience(&url("http://127.0.0.1:4000/push/x?y=1")),
            "http://127.0.0.1:4000"
        );
    }
}
