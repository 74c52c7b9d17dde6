//! Web Push message encryption (RFC 8291) in the `aes128gcm` content coding
//! (RFC 8188): what only the subscribed browser can read.
//!
//! Per message: an ephemeral P-256 key pair (the "application server" key of
//! RFC 8291, not the VAPID key), ECDH with the subscription's `p256dh` key,
//! the subscription's 16-byte `auth` secret mixed in by HKDF-SHA256, a random
//! 16-byte salt, then one AES-128-GCM record. The body is the RFC 8188
//! header (`salt ‖ rs ‖ idlen ‖ keyid`, the key id being the ephemeral public
//! key) followed by that record. Pure: the randomness comes in as arguments
//! in [`encrypt_with`], so the RFC's example is a unit test.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size written in the header. One record holds the whole
/// message, so this only has to be larger than it; 4096 is what browsers
/// and the RFC's example use.
pub const RECORD_SIZE: u32 = 4096;
/// `salt (16) ‖ rs (4) ‖ idlen (1) ‖ keyid (65)`.
pub const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The AES-GCM tag.
const TAG_LEN: usize = 16;
/// Push services must accept bodies of 4096 bytes (RFC 8030 §7.2); the
/// header, the tag and the record delimiter take the rest.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - TAG_LEN - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    #[error("the subscription's p256dh key is not a P-256 public key")]
    BadPublicKey,
    #[error("the subscription's auth secret must be 16 bytes (got {0})")]
    BadAuthSecret(usize),
    #[error("the payload is {0} bytes; at most {MAX_PLAINTEXT} fit one push message")]
    TooLarge(usize),
}

/// Encrypts `plaintext` for the subscription keys `ua_public` (65 bytes,
/// uncompressed point) and `auth_secret` (16 bytes) with a fresh ephemeral
/// key and salt.
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8],
    auth_secret: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    use rand::RngCore;
    let mut rng = rand::thread_rng();
    let ephemeral = SecretKey::random(&mut rng);
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    encrypt_with(plaintext, ua_public, auth_secret, &ephemeral, &salt)
}

/// [`encrypt`] with the ephemeral key and the salt given.
pub fn encrypt_with(
    plaintext: &[u8],
    ua_public: &[u8],
    auth_secret: &[u8],
    as_secret: &SecretKey,
    salt: &[u8; 16],
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLarge(plaintext.len()));
    }
    if auth_secret.len() != 16 {
        return Err(EncryptError::BadAuthSecret(auth_secret.len()));
    }
    let ua_key = PublicKey::from_sec1_bytes(ua_public).map_err(|_| EncryptError::BadPublicKey)?;
    // Always the uncompressed form in the key info, whatever form was given.
    let ua_public = ua_key.to_encoded_point(false);
    let as_public = as_secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_key.as_affine());

    // RFC 8291 §3.4: IKM = HKDF(auth_secret, ecdh_secret, key_info, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth_secret), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF-SHA256 length");

    // RFC 8188 §2.2–2.3: the content encryption key and the nonce.
    let hk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    hk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .expect("16 bytes is a valid HKDF-SHA256 length");
    hk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .expect("12 bytes is a valid HKDF-SHA256 length");

    // One record, the last: the plaintext, then the delimiter 0x02, no padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .expect("AES-GCM encrypts any message shorter than 64 GiB");

    let mut body = Vec::with_capacity(HEADER_LEN + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    }

    /// RFC 8291 Appendix A, every input and the expected body as printed there.
    #[test]
    fn matches_the_rfc_8291_example() {
        let as_secret =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            as_secret.public_key().to_encoded_point(false).as_bytes(),
            b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
        );
        let ua_public = b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        );
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            b"When I grow up, I want to be a watermelon",
            &ua_public,
            &auth,
            &as_secret,
            &salt,
        )
        .unwrap();
        assert_eq!(
            body,
            b64(concat!(
                "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
                "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
                "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
            ))
        );
    }

    #[test]
    fn fresh_keys_and_salts_and_refusals() {
        let ua = SecretKey::random(&mut rand::thread_rng());
        let ua_public = ua.public_key().to_encoded_point(false);
        let a = encrypt(b"hi", ua_public.as_bytes(), &[7; 16]).unwrap();
        let b = encrypt(b"hi", ua_public.as_bytes(), &[7; 16]).unwrap();
        assert_eq!(a.len(), HEADER_LEN + 2 + 1 + TAG_LEN);
        assert_ne!(a[..16], b[..16], "salts differ");
        assert_ne!(a[21..86], b[21..86], "ephemeral keys differ");
        let max = vec![b'x'; MAX_PLAINTEXT];
        assert_eq!(
            encrypt(&max, ua_public.as_bytes(), &[7; 16]).unwrap().len(),
            4096
        );
        assert_eq!(
            encrypt(&[0; MAX_PLAINTEXT + 1], ua_public.as_bytes(), &[7; 16]),
            Err(EncryptError::TooLarge(MAX_PLAINTEXT + 1))
        );
        assert_eq!(
            encrypt(b"hi", ua_public.as_bytes(), &[7; 15]),
            Err(EncryptError::BadAuthSecret(15))
        );
        assert_eq!(
            encrypt(b"hi", &[4; 65], &[7; 16]),
            Err(EncryptError::BadPublicKey)
        );
        assert_eq!(
            encrypt(b"hi", b"", &[7; 16]),
            Err(EncryptError::BadPublicKey)
        );
    }
}
