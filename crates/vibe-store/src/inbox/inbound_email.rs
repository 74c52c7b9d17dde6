//! What a verified inbound-mail webhook stores, in one transaction: the
//! email threaded into its conversation, or a new conversation for the
//! sender's person.
//!
//! - **Idempotent** on the email's `Message-ID`, stored as the message's
//!   `channel_message_id` on channel `email` (in its `<…>` form): a retried
//!   delivery stores nothing (no person, no conversation, no message).
//! - **Threading.** The first of `thread_ids` (the `In-Reply-To` id, then the
//!   `References` ids newest first) that is the `channel_message_id` of a
//!   message of this project on `email` — an outbound reply's `Message-ID`
//!   (`<{message id}@{domain}>`, see the server's `outbound::email`) or an
//!   earlier inbound email's — names the conversation. The message is added
//!   to it whatever its status (an inbound message reopens a resolved or
//!   closed conversation, [`super::timers::REOPEN_ON_INBOUND`]), and a
//!   conversation without a subject takes this one's.
//! - **Otherwise** a new `open` email conversation, `medium`, in the
//!   project's oldest email inbox (and its team) if it has one, with the
//!   email's subject, for the sender's person: the person whose `user_id` is
//!   `email:<address>` (the person this path creates: id
//!   `uid:email:<address>`, as ingest names people known only by a user id),
//!   else the most recently seen person with that `email`, else a new one
//!   (`email` column and trait, the display name as `name`, counted as one
//!   new user of the day as [`super::inbound`] does for phone numbers).
//!   Addresses are compared lowercased.

use vibe_core::day::ProjectTz;

use super::inbound::{INBOX_OF, INSERT_MESSAGE, LOCK_PERSON, PERSON_OF_USER, TIMEZONE};
use super::reporting;
use super::sql::{Tx, Val};
use crate::db::Db;
use crate::ingest::io::{INSERT_DAILY_STATS, ON_DAILY_STATS_CONFLICT};
use crate::StoreResult;

/// One email a contact sent, as the inbound-mail webhook delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEmail {
    /// Its `Message-ID`, `<…>`: a retry carries the same one.
    pub channel_message_id: String,
    /// `In-Reply-To`, then `References` newest first, each `<…>`.
    pub thread_ids: Vec<String>,
    /// The sender's address, lowercased.
    pub address: String,
    /// The sender's display name, for a new person.
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// A JSON array as text.
    pub attachments: String,
    /// Unix ms.
    pub at: i64,
    /// The new message's id.
    pub message_id: String,
    /// The id a conversation takes if this email opens one.
    pub conversation_id: String,
}

/// What one inbound email did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboundEmailOutcome {
    /// Its conversation (the stored one's, for a retry).
    pub conversation_id: Option<String>,
    pub stored: bool,
    /// Already stored (a retry).
    pub duplicate: bool,
    /// Threaded into an existing conversation by its ids.
    pub threaded: bool,
    pub person_created: bool,
    pub conversation_opened: bool,
}

/// The `user_id` of the person an email address is (lowercased).
pub fn email_user_id(address: &str) -> String {
    format!("email:{}", address.to_lowercase())
}

const CONVERSATION_OF_MESSAGE: &str = "SELECT conversation_id FROM messages
     WHERE project_id = $1 AND channel = 'email' AND channel_message_id = $2";
const PERSON_OF_EMAIL: &str = "SELECT id FROM site_users
     WHERE project_id = $1 AND email IN ($2, $3)
     ORDER BY last_seen DESC, id LIMIT 1";
const INSERT_PERSON: &str = "INSERT INTO site_users (project_id, id, user_id, email, name, traits,
        first_seen, last_seen, event_count, session_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 0, 0)
     ON CONFLICT DO NOTHING";
const INSERT_CONVERSATION: &str = "INSERT INTO conversations (project_id, id, site_user_id,
        channel, status, priority, team_id, inbox_id, handled_by_bot, is_lead, subject,
        opened_at, last_message_at, created_at, updated_at)
     VALUES ($1, $2, $3, 'email', 'open', 'medium', $4, $5, 0, 0, $6, $7, $7, $7, $7)";
/// Touching the row also locks the conversation until commit.
const FILL_SUBJECT: &str = "UPDATE conversations SET subject = COALESCE(subject, $3)
     WHERE project_id = $1 AND id = $2";

/// Stores one inbound email (see the module docs).
pub(crate) async fn receive(
    db: &Db,
    project_id: &str,
    m: &InboundEmail,
) -> StoreResult<InboundEmailOutcome> {
    let project: Vec<Val> = vec![project_id.into()];
    let address = m.address.to_lowercase();
    async {
        let mut out = InboundEmailOutcome::default();
        let mut tx = Tx::begin(db).await?;
        let key: Vec<Val> = vec![project_id.into(), (&m.channel_message_id).into()];
        if let Some((c,)) = tx.optional::<(String,)>(CONVERSATION_OF_MESSAGE, &key).await? {
            tx.commit().await?;
            out.duplicate = true;
            out.conversation_id = Some(c);
            return Ok(out);
        }
        let mut threaded = None;
        for id in &m.thread_ids {
            let key: Vec<Val> = vec![project_id.into(), id.into()];
            if let Some((c,)) = tx.optional::<(String,)>(CONVERSATION_OF_MESSAGE, &key).await? {
                threaded = Some(c);
                break;
            }
        }
        let mut new_user_day = None;
        let conversation = match threaded {
            Some(c) => {
                let fill: Vec<Val> = vec![project_id.into(), (&c).into(), (&m.subject).into()];
                tx.exec(FILL_SUBJECT, &fill).await?;
                out.threaded = true;
                c
            }
            None => {
                let user_id = email_user_id(&address);
                let by_user: Vec<Val> = vec![project_id.into(), (&user_id).into()];
                let by_email: Vec<Val> =
                    vec![project_id.into(), (&address).into(), (&m.address).into()];
                let known = match tx.optional::<(String,)>(PERSON_OF_USER, &by_user).await? {
                    Some(p) => Some(p),
                    None => tx.optional::<(String,)>(PERSON_OF_EMAIL, &by_email).await?,
                };
                let person = match known {
                    Some((id,)) => id,
                    None => {
                        let id = format!("uid:{user_id}");
                        let traits = serde_json::json!({ "email": address }).to_string();
                        let row: Vec<Val> = vec![
                            project_id.into(),
                            (&id).into(),
                            (&user_id).into(),
                            (&address).into(),
                            (&m.name).into(),
                            traits.into(),
                            m.at.into(),
                        ];
                        if tx.exec(INSERT_PERSON, &row).await? == 1 {
                            out.person_created = true;
                            new_user_day = Some(m.at);
                            id
                        } else {
                            // Another delivery created them since.
                            tx.optional::<(String,)>(PERSON_OF_USER, &by_user).await?
                                .map(|r| r.0)
                                .ok_or_else(|| crate::StoreError::Conflict("person".into()))?
                        }
                    }
                };
                let lock: Vec<Val> = vec![project_id.into(), (&person).into(), (&m.name).into()];
                tx.exec(LOCK_PERSON, &lock).await?;
                let inbox_key: Vec<Val> = vec![project_id.into(), "email".into()];
                let inbox: Option<(String, Option<String>)> =
                    tx.optional::<(String, Option<String>)>(INBOX_OF, &inbox_key).await?;
                let (inbox_id, team_id) = match inbox {
                    Some((i, t)) => (Some(i), t),
                    None => (None, None),
                };
                let row: Vec<Val> = vec![
                    project_id.into(),
                    (&m.conversation_id).into(),
                    (&person).into(),
                    team_id.into(),
                    inbox_id.into(),
                    (&m.subject).into(),
                    m.at.into(),
                ];
                tx.exec(INSERT_CONVERSATION, &row).await?;
                reporting::created(&mut tx, project_id, &m.conversation_id).await?;
                out.conversation_opened = true;
                m.conversation_id.clone()
            }
        };
        let row: Vec<Val> = vec![
            project_id.into(),
            (&m.message_id).into(),
            (&conversation).into(),
            "email".into(),
            (&m.body).into(),
            (&m.attachments).into(),
            m.at.into(),
            (&m.channel_message_id).into(),
        ];
        if tx.exec(INSERT_MESSAGE, &row).await? == 0 {
            // Stored meanwhile by a concurrent delivery of the same retry:
            // nothing of this one stays.
            tx.rollback().await?;
            return Ok(InboundEmailOutcome {
                duplicate: true,
                ..Default::default()
            });
        }
        reporting::on_inbound(&mut tx, project_id, &conversation, &m.message_id, m.at).await?;
        if let Some(at) = new_user_day {
            let tz: Option<(String,)> = tx.optional::<(String,)>(TIMEZONE, &project).await?;
            let tz = ProjectTz::or_utc(tz.as_ref().map_or("UTC", |t| t.0.as_str()));
            let stats = format!(
                "{INSERT_DAILY_STATS} VALUES ($1, $2, 0, $3, 0, 0, 0, 0, 0, 0, 0, 0){ON_DAILY_STATS_CONFLICT}"
            );
            let row: Vec<Val> = vec![project_id.into(), tz.day_of(at).into(), 1i64.into()];
            tx.exec(&stats, &row).await?;
        }
        tx.commit().await?;
        out.stored = true;
        out.conversation_id = Some(conversation);
        Ok(out)
    }
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_lowercase() {
        assert_eq!(email_user_id("Ann@Example.COM"), "email:ann@example.com");
    }
}
