//! Credentials: argon2id for passwords; random high-entropy tokens (sessions, API
//! tokens, project keys) are stored as SHA-256 hashes, which is enough for values
//! that cannot be guessed, and keeps lookups a single indexed query.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `prefix` followed by 32 random bytes in lowercase hex.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex(&bytes))
}

pub fn sha256_hex(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Lowercase hex, the one encoding of every digest and token this server shows.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The part of a token shown in listings (`vbt_1a2b3c4d…`).
pub fn display_prefix(token: &str) -> String {
    token.chars().take(12).collect()
}

/// A new API token or project key: the caller sees `secret` once; only `hash`
/// is stored, with `prefix` to recognise it in listings.
pub struct Issued {
    pub secret: String,
    pub hash: String,
    pub prefix: String,
}

pub fn issue_secret(prefix: &str) -> Issued {
    let secret = random_token(prefix);
    Issued {
        hash: sha256_hex(&secret),
        prefix: display_prefix(&secret),
        secret,
    }
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Most argon2 computations running at once. Each takes ~19 MiB and a core for
/// tens of milliseconds, so a flood of logins waits here instead of exhausting
/// memory; the rest of the server keeps its cores.
pub const MAX_CONCURRENT_HASHES: usize = 4;
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);
/// How long a request waits for a hashing slot before it is answered 503.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks at once")]
    Busy,
    #[error("hashing failed: {0}")]
    Failed(String),
}

async fn on_hashing_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let _permit = tokio::time::timeout(HASH_WAIT, HASHING.acquire())
        .await
        .map_err(|_| HashError::Busy)?
        .map_err(|e| HashError::Failed(e.to_string()))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Hashes on the blocking pool, at most [`MAX_CONCURRENT_HASHES`] at a time:
/// argon2 is deliberately slow and memory-hard.
pub async fn hash_password_async(password: String) -> Result<String, HashError> {
    on_hashing_pool(move || hash_password(&password))
        .await?
        .map_err(|e| HashError::Failed(e.to_string()))
}

pub async fn verify_password_async(password: String, hash: String) -> Result<bool, HashError> {
    on_hashing_pool(move || verify_password(&password, &hash)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_long_and_prefixed() {
        let t = random_token("sk_");
        assert!(t.starts_with("sk_") && t.len() == 67);
        assert_ne!(t, random_token("sk_"));
        assert_eq!(sha256_hex("abc").len(), 64);
    }

    #[tokio::test]
    async fn hashing_waits_for_a_free_slot() {
        // Every slot taken (a flood of logins): the next check waits.
        let all = HASHING
            .acquire_many(MAX_CONCURRENT_HASHES as u32)
            .await
            .expect("permits");
        let h = hash_password("pw").expect("hash");
        let waiting = tokio::spawn(verify_password_async("pw".into(), h));
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished(), "ran without a slot");
        assert_eq!(HASHING.available_permits(), 0);
        drop(all);
        assert!(waiting.await.expect("task").expect("verified"));
    }
}
