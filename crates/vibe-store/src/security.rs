//! Records for the security features: the one-time setup claim and a
//! project's identity verification (signed `user_id`s from browsers).

use std::fmt;

/// What [`crate::Store::claim_setup_token`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupClaim {
    /// The token was unclaimed and no owner existed; it (and every other
    /// outstanding token) is now claimed.
    Claimed,
    /// Setup is still open, but this is not one of its tokens.
    WrongToken,
    /// An owner exists or every token was used: setup is over.
    Done,
}

/// A project's identity verification setting. When `required`, identifies sent
/// from browsers must carry `user_hash = HMAC-SHA256(user_id, secret)`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityVerification {
    pub required: bool,
    /// Generated on first use; `None` until then.
    pub secret: Option<String>,
}

impl fmt::Debug for IdentityVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityVerification")
            .field("required", &self.required)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}
