//! Dashboard accounts, their sign-in sessions and API tokens.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    /// Works with contacts: tags, priority, properties and notes (the Inbox
    /// issue adds conversations); reads everything a viewer reads.
    Agent,
    /// An agent who also sees (and acts on) every conversation of their
    /// teams, whoever it is assigned to.
    Supervisor,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Agent => "agent",
            Self::Supervisor => "supervisor",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "viewer" | "member" => Self::Viewer,
            "agent" => Self::Agent,
            "supervisor" => Self::Supervisor,
            "admin" => Self::Admin,
            "owner" => Self::Owner,
            _ => return None,
        })
    }
}

// Stored as text; decoding is generic so both backends share it.
impl<DB: sqlx::Database> sqlx::Type<DB> for Role
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for Role
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        let s = <String as sqlx::Decode<'r, DB>>::decode(value)?;
        Role::parse(&s).ok_or_else(|| format!("unknown role {s:?}").into())
    }
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub created_at: i64,
}

/// A person who signs in to the dashboard (not a tracked site user).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountWithHash {
    #[sqlx(flatten)]
    pub account: Account,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewAuthSession {
    pub token_hash: String,
    pub account_id: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub token_hash: String,
    /// First characters of the token, shown in listings to tell tokens apart.
    pub prefix: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What [`super::AccountStore::claim_setup_token`] found.
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
