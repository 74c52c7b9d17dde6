//! Sending campaigns (issue 14, item 3; docs/campaigns.md): the leader's
//! sender task ([`sender`]), the rendered email of one recipient
//! ([`message`]), a push recipient's send to each of its browsers
//! ([`push`]), an in-app recipient's message in its widget conversation
//! ([`in_app`]) and the SMTP connection a campaign keeps open for its
//! sends ([`smtp`]). The store keeps the campaigns and their recipients
//! (`vibe_store::campaigns`); the API creates and steers them
//! (`api/campaigns/`).

pub mod in_app;
pub mod links;
pub mod message;
pub mod push;
pub mod sender;
pub mod smtp;
