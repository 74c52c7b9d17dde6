//! Secrets at rest: channel credentials (SMTP passwords, WhatsApp and Twilio
//! tokens) are sealed with AES-256-GCM before they reach the database, so a
//! copy of the database (a backup, a replica, a leaked dump) does not hold
//! them in the clear. Unlike the hashed tokens of `secrets.rs`, these must be
//! read back: the server uses them to sign and verify.
//!
//! The key is `VIBE_SECRET_KEY` (32 bytes as base64 or hex) or, when unset,
//! `secret.key` in the data directory, generated on first start (mode 0600).
//! Several PostgreSQL instances must share one key, so they must set the
//! variable (each would otherwise generate its own file).
//!
//! Sealed format, version 1: `0x01 ‖ nonce (12 random bytes) ‖ ciphertext ‖
//! tag (16 bytes)`, the associated data naming what the secret belongs to
//! (e.g. `channel:{project}:{kind}`) so a sealed value copied to another row
//! does not open there. The version byte lets a later key rotation or cipher
//! change read old values.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{bail, Context};
use base64::Engine;
use rand::RngCore;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// Where the key came from, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File,
    Generated,
}

/// The sealing key. `Debug` never prints it.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    /// `HMAC-SHA256(key, "vibe signing key v1")`: signs tokens the server
    /// hands out (the chat widget's visitor tokens), never the sealing key itself.
    signing: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(…)")
    }
}

/// A sealed value that does not open: tampered, truncated, another key,
/// another owner, or an unknown version.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sealed secret does not open ({0})")]
pub struct OpenError(&'static str);

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Self {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
        mac.update(b"vibe signing key v1");
        Self {
            cipher: Aes256Gcm::new(key.into()),
            signing: mac.finalize().into_bytes().into(),
        }
    }

    /// HMAC-SHA256 of `msg` under the derived signing key, for `purpose`
    /// (part of the MAC, so a signature for one purpose is no other's).
    pub fn sign(&self, purpose: &str, msg: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.signing).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(msg);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of [`Vault::sign`].
    pub fn verify(&self, purpose: &str, msg: &[u8], signature: &[u8]) -> bool {
        use hmac::{Hmac, Mac};
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.signing).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(msg);
        mac.verify_slice(signature).is_ok()
    }

    /// The key from `env` (`VIBE_SECRET_KEY`) when given, else from (or newly
    /// written to) `data_dir/secret.key`.
    pub fn load(env: Option<&str>, data_dir: &Path) -> anyhow::Result<(Self, KeySource)> {
        if let Some(text) = env {
            let key = parse_key(text).context("VIBE_SECRET_KEY")?;
            return Ok((Self::from_key(&key), KeySource::Env));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = parse_key(&text).with_context(|| format!("{}", path.display()))?;
                Ok((Self::from_key(&key), KeySource::File))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = write_new_key(data_dir, &path)?;
                Ok((Self::from_key(&key), KeySource::Generated))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Seals `plaintext` for `owner` (the associated data).
    pub fn seal(&self, owner: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: owner.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, owner: &str, sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError("empty"))?;
        if version != VERSION {
            return Err(OpenError("unknown version"));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError("truncated"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: ciphertext,
            aad: owner.as_bytes(),
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| OpenError("authentication failed"))
    }

    /// [`Vault::seal`] as base64 text, the form the database stores.
    pub fn seal_text(&self, owner: &str, plaintext: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.seal(owner, plaintext.as_bytes()))
    }

    pub fn open_text(&self, owner: &str, sealed: &str) -> Result<String, OpenError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed.trim())
            .map_err(|_| OpenError("not base64"))?;
        String::from_utf8(self.open(owner, &bytes)?).map_err(|_| OpenError("not UTF-8"))
    }
}

/// 32 bytes as 64 hex digits or as base64 (padded or not).
pub fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| anyhow::anyhow!("must be 32 bytes as base64 or 64 hex digits"))?
    };
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(_) => bail!(
            "must be 32 bytes (got {}); e.g. `openssl rand -base64 32`",
            bytes.len()
        ),
    }
}

/// A new random key in `path`, readable by this user only. `create_new`, so
/// two processes starting at once cannot both write one: the loser reads the
/// winner's.
fn write_new_key(data_dir: &Path, path: &Path) -> anyhow::Result<[u8; 32]> {
    use std::io::Write;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            writeln!(file, "{text}")
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)?;
            parse_key(&text).with_context(|| format!("{}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(byte: u8) -> Vault {
        Vault::from_key(&[byte; 32])
    }

    #[test]
    fn round_trip() {
        let v = vault(7);
        let sealed = v.seal("channel:p:email", b"hunter2");
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 7 + TAG_LEN);
        assert_eq!(v.open("channel:p:email", &sealed).unwrap(), b"hunter2");
        let text = v.seal_text("o", "s3cret");
        assert!(!text.contains("s3cret"));
        assert_eq!(v.open_text("o", &text).unwrap(), "s3cret");
    }

    #[test]
    fn nonces_differ() {
        let v = vault(7);
        assert_ne!(v.seal("o", b"same"), v.seal("o", b"same"));
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let v = vault(7);
        let sealed = v.seal("o", b"hunter2");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(v.open("o", &bad).is_err(), "byte {i} flipped still opens");
        }
        assert!(v.open("o", &sealed[..sealed.len() - 1]).is_err());
        assert!(v.open("o", &[]).is_err());
        assert!(v.open("o", &[VERSION; 5]).is_err());
    }

    #[test]
    fn wrong_key_or_owner_fails() {
        let sealed = vault(7).seal("channel:a:email", b"hunter2");
        assert!(vault(8).open("channel:a:email", &sealed).is_err());
        assert!(vault(7).open("channel:b:email", &sealed).is_err());
    }

    /// NIST SP 800-38D / McGrew–Viega test case 14: AES-256, zero key, one
    /// zero block, zero IV — proves the cipher is standard AES-256-GCM.
    #[test]
    fn matches_the_standard_test_vector() {
        let cipher = Aes256Gcm::new(&[0u8; 32].into());
        let out = cipher
            .encrypt(Nonce::from_slice(&[0u8; 12]), [0u8; 16].as_slice())
            .unwrap();
        assert_eq!(
            crate::secrets::hex(&out),
            "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"
        );
    }

    #[test]
    fn keys_parse_as_hex_or_base64() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(parse_key(&hex).unwrap()[31], 0xff);
        let b64 = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert_eq!(parse_key(&b64).unwrap(), [9u8; 32]);
        assert_eq!(parse_key(b64.trim_end_matches('=')).unwrap(), [9u8; 32]);
        assert!(parse_key("short").is_err());
        assert!(parse_key(&base64::engine::general_purpose::STANDARD.encode([1u8; 16])).is_err());
    }

    #[test]
    fn key_file_is_generated_once_and_private() {
        let dir = std::env::temp_dir().join(format!("vibe-vault-{}", uuid::Uuid::new_v4()));
        let (first, src) = Vault::load(None, &dir).unwrap();
        assert_eq!(src, KeySource::Generated);
        let sealed = first.seal("o", b"x");
        let (second, src) = Vault::load(None, &dir).unwrap();
        assert_eq!(src, KeySource::File);
        assert_eq!(second.open("o", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let env = "11".repeat(32);
        let (from_env, src) = Vault::load(Some(&env), &dir).unwrap();
        assert_eq!(src, KeySource::Env);
        assert!(from_env.open("o", &sealed).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
