//! The providers' webhook signatures, as pure functions over bytes. Both are
//! checked with `Mac::verify_slice` (constant time) before the body is
//! parsed at all.
//!
//! - WhatsApp Cloud API (Meta): `X-Hub-Signature-256: sha256=<hex>`, the
//!   HMAC-SHA256 of the raw body keyed with the app secret.
//! - Inbound mail (Vibe's own): `X-Vibe-Signature: sha256=<hex>`, the same
//!   HMAC-SHA256 of the raw body, keyed with the email channel's
//!   `inbound_secret`.
//! - Twilio: `X-Twilio-Signature: <base64>`, the HMAC-SHA1 keyed with the
//!   auth token of the full URL Twilio requested (scheme, host, path, query)
//!   followed by every POST parameter's name and value, sorted by name.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Why a signature was refused; the label of the rejection counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Malformed,
    Mismatch,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Missing => "missing_signature",
            Refusal::Malformed => "malformed_signature",
            Refusal::Mismatch => "bad_signature",
        }
    }
}

/// Checks a WhatsApp `X-Hub-Signature-256` header value against `body`.
pub fn verify_whatsapp(
    app_secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), Refusal> {
    verify_sha256_hex(app_secret, body, header)
}

/// Checks the inbound-mail webhook's `X-Vibe-Signature` header value
/// (`sha256=<hex>`, the HMAC-SHA256 of the raw body keyed with the email
/// channel's `inbound_secret`: the same scheme as WhatsApp's).
pub fn verify_email(
    inbound_secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), Refusal> {
    verify_sha256_hex(inbound_secret, body, header)
}

/// `sha256=<hex HMAC-SHA256 of body keyed with key>`, hex in either case.
fn verify_sha256_hex(key: &[u8], body: &[u8], header: Option<&str>) -> Result<(), Refusal> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(Refusal::Missing)?;
    let hex = header.strip_prefix("sha256=").ok_or(Refusal::Malformed)?;
    let expected = decode_hex(hex).ok_or(Refusal::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Refusal::Mismatch)
}

/// What Twilio signs: the URL, then each parameter's name and value, sorted
/// by name (and by value for a repeated name).
pub fn twilio_payload(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut out = url.as_bytes().to_vec();
    for (name, value) in sorted {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// Checks an `X-Twilio-Signature` header value for a form POST to `url`.
pub fn verify_twilio(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<(), Refusal> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(Refusal::Missing)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|_| Refusal::Malformed)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token).expect("HMAC takes any key length");
    mac.update(&twilio_payload(url, params));
    mac.verify_slice(&expected).map_err(|_| Refusal::Mismatch)
}

/// Whether two secrets are equal, in time independent of where they differ
/// (their SHA-256 digests are compared through `verify_slice`).
pub fn same_secret(stored: &str, given: &str) -> bool {
    use sha2::Digest;
    let mut mac = Hmac::<Sha256>::new_from_slice(b"vibe-secret-compare").expect("any key length");
    mac.update(&Sha256::digest(given.as_bytes()));
    let mut reference =
        Hmac::<Sha256>::new_from_slice(b"vibe-secret-compare").expect("any key length");
    reference.update(&Sha256::digest(stored.as_bytes()));
    mac.verify_slice(&reference.finalize().into_bytes()).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 (HMAC-SHA256, key "Jefe").
    #[test]
    fn whatsapp_matches_rfc_4231() {
        let body = b"what do ya want for nothing?";
        let sig = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(verify_whatsapp(b"Jefe", body, Some(sig)), Ok(()));
        assert_eq!(
            verify_whatsapp(b"Jefe", b"what do ya want for nothing!", Some(sig)),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify_whatsapp(b"jefe", body, Some(sig)),
            Err(Refusal::Mismatch)
        );
        assert_eq!(verify_whatsapp(b"Jefe", body, None), Err(Refusal::Missing));
        assert_eq!(
            verify_whatsapp(b"Jefe", body, Some("sha1=5bdc")),
            Err(Refusal::Malformed)
        );
        assert_eq!(
            verify_whatsapp(b"Jefe", body, Some("sha256=zz")),
            Err(Refusal::Malformed)
        );
        // Uppercase hex is the same digest.
        assert_eq!(
            verify_whatsapp(
                b"Jefe",
                body,
                Some(&sig.to_uppercase().replace("SHA256", "sha256"))
            ),
            Ok(())
        );
    }

    /// The worked example of Twilio's security documentation
    /// (twilio.com/docs/usage/security): auth token 12345, this URL and these
    /// parameters sign to `0/KCTR6DLpKmkAf8muzZqo1nDgQ=`.
    #[test]
    fn twilio_matches_the_documented_example() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let sig = Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert_eq!(verify_twilio(b"12345", url, &params, sig), Ok(()));
        let mut reversed = params.clone();
        reversed.reverse();
        assert_eq!(
            verify_twilio(b"12345", url, &reversed, sig),
            Ok(()),
            "order of the form does not matter"
        );
        let mut tampered = params.clone();
        tampered[2].1 = "1235".into();
        assert_eq!(
            verify_twilio(b"12345", url, &tampered, sig),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify_twilio(b"54321", url, &params, sig),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify_twilio(b"12345", "https://mycompany.com/myapp.php", &params, sig),
            Err(Refusal::Mismatch)
        );
        assert_eq!(
            verify_twilio(b"12345", url, &params, None),
            Err(Refusal::Missing)
        );
        assert_eq!(
            verify_twilio(b"12345", url, &params, Some("%%%")),
            Err(Refusal::Malformed)
        );
    }
}
