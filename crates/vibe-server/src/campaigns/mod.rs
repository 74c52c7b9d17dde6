//! Sending campaigns (issue 14, item 3; docs/campaigns.md): the leader's
//! sender task ([`sender`]), the rendered email of one recipient
//! ([`message`]) and the SMTP connection a campaign keeps open for its
//! sends ([`smtp`]). The store keeps the campaigns and their recipients
//! (`vibe_store::campaigns`); the API creates and steers them
//! (`api/campaigns/`).

pub mod links;
pub mod message;
pub mod sender;
pub mod smtp;
