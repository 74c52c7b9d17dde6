//! An in-app campaign's send to one claimed recipient: the template's text
//! rendered for the contact (the preview's own code) and posted into the
//! contact's in-app conversation — the one the Inbox widget shows
//! (`api/tracking/chat.rs`) — as an outbound `system` message, `sent` at
//! once (the widget marks it read when the visitor sees it). A contact
//! without an in-app conversation gets one, created `resolved` so a
//! campaign does not fill the agents' open queue; the visitor's reply comes
//! in on it like any other.

use serde_json::Value;
use vibe_store::campaigns::{ClaimedRecipient, SendOutcome};
use vibe_store::inbox::{
    Channel, DeliveryStatus, Direction, NewConversation, NewMessage, Priority, Scope, Sender,
    Status,
};

use super::message::unsubscribe_url;
use super::sender::retry;
use crate::api::templates::preview::{contact_of, rendered};
use crate::api::templates::Draft;
use crate::api::tracking::chat::conversation_of;
use crate::live::record::InboxChange;
use crate::state::AppState;

fn failed(error: String) -> SendOutcome {
    SendOutcome::Failed {
        error,
        hard_bounce: false,
    }
}

/// The message text `draft` renders to for `contact`.
pub fn text(
    draft: &Draft,
    contact: Value,
    data: &Value,
    unsubscribe_url: &str,
) -> Result<String, String> {
    let r = rendered(draft, contact, data.clone(), unsubscribe_url).map_err(|e| e.to_string())?;
    r["text"]
        .as_str()
        .map(str::to_owned)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| "the template renders no text".to_owned())
}

pub async fn deliver(
    state: &AppState,
    project_id: &str,
    draft: &Draft,
    data: &Value,
    r: &ClaimedRecipient,
) -> SendOutcome {
    let person = match state.store.find_user(project_id, &r.person_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return failed("the person no longer exists".into()),
        Err(e) => return retry(state, r, format!("reading the person: {e}")),
    };
    let body = match text(
        draft,
        contact_of(&person),
        data,
        &unsubscribe_url(state, &r.token),
    ) {
        Ok(t) => t,
        Err(why) => return failed(why),
    };
    // Nothing leaves the server: a failure here wrote nothing (or the
    // message, if only the answer was lost — then `unknown`, never twice).
    let now = state.clock.now_ms();
    let conversation = match conversation_of(state, project_id, &person.id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            let inbox = match state.store.inboxes(project_id).await {
                Ok(all) => all
                    .into_iter()
                    .filter(|i| i.channel == Channel::InApp.as_str())
                    .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
                Err(e) => return retry(state, r, format!("reading the inboxes: {e}")),
            };
            let new = NewConversation {
                id: uuid::Uuid::new_v4().to_string(),
                site_user_id: person.id.clone(),
                channel: Channel::InApp,
                status: Status::Resolved,
                priority: Priority::Medium,
                assignee_account_id: None,
                team_id: None,
                inbox_id: inbox.map(|i| i.id),
                handled_by_bot: false,
                intent: None,
                is_lead: false,
                external_id: None,
                created_by_account_id: None,
                created_at: now,
            };
            match state.store.create_conversation(project_id, &new).await {
                Ok((c, _)) => c,
                Err(e) => return retry(state, r, format!("creating the conversation: {e}")),
            }
        }
        Err(e) => return retry(state, r, format!("finding the conversation: {e}")),
    };
    let new = NewMessage {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: conversation.id.clone(),
        direction: Direction::Out,
        sender: Sender::System,
        sender_account_id: None,
        body,
        private: false,
        attachments: "[]".into(),
        delivery_status: DeliveryStatus::Sent,
        channel_message_id: None,
        created_at: now,
    };
    match state.store.add_message(project_id, &Scope::All, &new).await {
        Ok(Some((message, _))) => {
            crate::live::inbox::publish(
                state,
                project_id,
                vec![InboxChange::Message(message.id.clone())],
            );
            SendOutcome::Sent {
                message_id: message.id,
            }
        }
        Ok(None) => failed("the conversation is gone".into()),
        Err(e) => SendOutcome::Unknown {
            error: format!("adding the message: {e}"),
        },
    }
}
