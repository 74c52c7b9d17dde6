//! Web Push (issue 14): the cryptography and the keys, without I/O of its own
//! beyond the store. [`vapid`] signs the push requests (RFC 8292), [`ece`]
//! encrypts the payload for one browser (RFC 8291, `aes128gcm`), [`keys`]
//! keeps each project's VAPID key pair sealed in the store. The HTTP side is
//! `api/push/` (the tracked site's subscribe/unsubscribe/key endpoints) and
//! `outbound/push.rs` (one message to one subscription); docs/push.md.

pub mod ece;
pub mod keys;
pub mod vapid;
