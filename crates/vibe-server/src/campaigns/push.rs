//! A push campaign's send to one claimed recipient: the template's push
//! part rendered for the contact (the preview's own code) and pushed
//! (`outbound::push::send`) to every browser the contact has subscribed,
//! read at send time.
//!
//! A recipient with several browsers is one recipient, sent in one pass:
//! it is `sent` as soon as one browser's push service accepted (the
//! `message_id` lists the accepted messages; browsers that failed
//! meanwhile are not tried again, so no browser can get it twice). Only
//! when none accepted does the outcome come from the others: `unknown` if
//! any request was lost after it went out (never resent), else a retry if
//! any service asked for one, else `failed`. A `404`/`410` removes that
//! subscription (`outbound::push`).

use serde_json::Value;
use vibe_store::campaigns::{ClaimedRecipient, SendOutcome};

use super::message::unsubscribe_url;
use super::sender::retry;
use crate::api::templates::preview::{contact_of, rendered};
use crate::api::templates::Draft;
use crate::outbound::push::{send, Notification, PushMessage};
use crate::outbound::SendError;
use crate::state::AppState;

fn failed(error: String) -> SendOutcome {
    SendOutcome::Failed {
        error,
        hard_bounce: false,
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_owned)
}

/// The notification `draft` renders to for `contact`.
pub fn notification(
    draft: &Draft,
    contact: Value,
    data: &Value,
    unsubscribe_url: &str,
) -> Result<Notification, String> {
    let r = rendered(draft, contact, data.clone(), unsubscribe_url).map_err(|e| e.to_string())?;
    let push = &r["push"];
    let title = text(push, "title").ok_or("the template has no push part")?;
    Ok(Notification {
        title,
        body: text(push, "body").filter(|b| !b.is_empty()),
        url: text(push, "url"),
        icon: text(push, "icon"),
        click_url: None,
    })
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
    let subscriptions = match state
        .store
        .push_subscriptions_of(project_id, &person.id)
        .await
    {
        Ok(s) => s,
        Err(e) => return retry(state, r, format!("reading the push subscriptions: {e}")),
    };
    if subscriptions.is_empty() {
        return failed("no push subscription (every browser unsubscribed)".into());
    }
    let notification = match notification(
        draft,
        contact_of(&person),
        data,
        &unsubscribe_url(state, &r.token),
    ) {
        Ok(n) => n,
        Err(why) => return failed(why),
    };
    let message = PushMessage::new(notification);
    let (mut accepted, mut lost, mut later, mut refused) = (vec![], vec![], vec![], vec![]);
    for s in &subscriptions {
        match send(state, project_id, s, &message).await {
            Ok(sent) => accepted.push(sent.channel_message_id),
            Err(SendError::Unknown(e)) => lost.push(e),
            Err(SendError::Retry(e)) => later.push(e),
            Err(SendError::Fail(e)) => refused.push(e),
        }
    }
    if !accepted.is_empty() {
        return SendOutcome::Sent {
            message_id: accepted.join(" "),
        };
    }
    let all = || {
        lost.iter()
            .chain(&later)
            .chain(&refused)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    if !lost.is_empty() {
        return SendOutcome::Unknown { error: all() };
    }
    if !later.is_empty() {
        return retry(state, r, all());
    }
    failed(all())
}
