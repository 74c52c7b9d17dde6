//! Every support timer and delivery-status rule, decided here once for both
//! backends (docs/metrics.md, "Support timers", states the same in prose).
//!
//! - **First response**: starts at the conversation's first inbound message
//!   (`first_inbound_at`, its `created_at`); stops at the first outbound
//!   message from an agent or a bot, not private, created at or after it
//!   (`first_response_at`, `first_response_s` = whole seconds between). An
//!   agent's message before any inbound one (an agent-started conversation)
//!   does not count; system messages and internal notes never do. Set once.
//! - **Resolution**: runs from `opened_at` (creation, or the latest reopen)
//!   while the status is `open` or `pending`; stops when it becomes `resolved`
//!   or `closed` (`resolved_at`, `resolution_s`). `resolved → closed` changes
//!   no timer. A **reopen** (`resolved`/`closed` → `open`/`pending`, by an
//!   agent or by a new inbound message) restarts it: `opened_at` = now, and
//!   `resolved_at`/`resolution_s` keep the latest resolution's values until
//!   the next one overwrites them.
//! - **Delivery status** only moves forward: `queued < sent < delivered <
//!   read`; `failed` only from `queued` or `sent`; `read` and `failed` are
//!   final. Repeating a status, or a late lower one, changes nothing, and
//!   each timestamp is set once (a `read` also fills a missing `delivered_at`
//!   and `sent_at`).
//!
//! Each rule is one guarded `UPDATE` (its condition in the `WHERE`), so a
//! concurrent writer can only make it touch no row, never apply it twice.

use super::model::{DeliveryStatus, Direction, NewMessage, Sender, Status};

/// What a status change does to the resolution timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Same status: nothing.
    None,
    /// `open ↔ pending`, or `resolved → closed`: the status only.
    Plain,
    /// Running → done: the timer stops.
    Resolve,
    /// Done → running: the timer restarts.
    Reopen,
}

pub fn transition(from: Status, to: Status) -> Transition {
    match (from.is_done(), to.is_done()) {
        _ if from == to => Transition::None,
        (false, true) => Transition::Resolve,
        (true, false) => Transition::Reopen,
        _ => Transition::Plain,
    }
}

/// The statement applying `t` to conversation `$2` of project `$1`, bound
/// `($1 project, $2 id, $3 new status, $4 now, $5 old status)`; `None` for
/// [`Transition::None`]. The old status in the `WHERE` makes a concurrent
/// change touch no row (the caller re-reads and decides again).
pub fn transition_sql(t: Transition) -> Option<&'static str> {
    Some(match t {
        Transition::None => return None,
        Transition::Plain => {
            "UPDATE conversations SET status = $3, updated_at = $4
             WHERE project_id = $1 AND id = $2 AND status = $5"
        }
        Transition::Resolve => {
            "UPDATE conversations SET status = $3, updated_at = $4,
                 resolved_at = $4, resolution_s = ($4 - opened_at) / 1000
             WHERE project_id = $1 AND id = $2 AND status = $5"
        }
        Transition::Reopen => {
            "UPDATE conversations SET status = $3, updated_at = $4, opened_at = $4
             WHERE project_id = $1 AND id = $2 AND status = $5"
        }
    })
}

/// Whether a new message answers the contact (may stop the first-response timer).
pub fn is_response(m: &NewMessage) -> bool {
    m.direction == Direction::Out && !m.private && matches!(m.sender, Sender::Agent | Sender::Bot)
}

/// A new message's effect on its conversation, bound `($1 project, $2 id,
/// $3 message created_at)`. Inbound: the first-response timer may start, the
/// unread count grows, a resolved or closed conversation reopens (below).
pub const ON_INBOUND: &str = "UPDATE conversations SET
         first_inbound_at = COALESCE(first_inbound_at, $3),
         unread_count = unread_count + 1,
         last_message_at = CASE WHEN last_message_at < $3 THEN $3 ELSE last_message_at END,
         updated_at = $3
     WHERE project_id = $1 AND id = $2";
/// An inbound message reopens a resolved or closed conversation (the
/// [`Transition::Reopen`] rule, applied by the contact).
pub const REOPEN_ON_INBOUND: &str = "UPDATE conversations SET status = 'open', opened_at = $3
     WHERE project_id = $1 AND id = $2 AND status IN ('resolved', 'closed')";
/// Any message but an internal note moves the conversation up the list.
pub const ON_OUTBOUND: &str = "UPDATE conversations SET
         last_message_at = CASE WHEN last_message_at < $3 THEN $3 ELSE last_message_at END,
         updated_at = $3
     WHERE project_id = $1 AND id = $2";
/// The first response, set once (see the module docs).
pub const FIRST_RESPONSE: &str = "UPDATE conversations SET
         first_response_at = $3, first_response_s = ($3 - first_inbound_at) / 1000
     WHERE project_id = $1 AND id = $2 AND first_response_at IS NULL
       AND first_inbound_at IS NOT NULL AND first_inbound_at <= $3";
/// A bot's message marks the conversation as handled by a bot; bound `($1, $2)`.
pub const BOT_HANDLED: &str = "UPDATE conversations SET handled_by_bot = 1
     WHERE project_id = $1 AND id = $2";

/// An agent writing (not a note) in a conversation a bot handled escalates
/// it to a human; bound `($1, $2)`.
pub const AGENT_AFTER_BOT: &str = "UPDATE conversations SET escalated_to_human = 1
     WHERE project_id = $1 AND id = $2 AND handled_by_bot = 1 AND escalated_to_human = 0";
/// At each resolution: resolved by a bot with no agent message (not a note)
/// in the conversation; bound `($1, $2)`.
pub const BOT_ONLY: &str = "UPDATE conversations SET bot_only = CASE WHEN handled_by_bot = 1
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.project_id = conversations.project_id
             AND m.conversation_id = conversations.id AND m.sender = 'agent' AND m.private = 0)
         THEN 1 ELSE 0 END
     WHERE project_id = $1 AND id = $2";

/// The statuses a message may move to `next` from: none for `queued` (a
/// message starts there, it never goes back).
pub fn delivery_from(next: DeliveryStatus) -> &'static [DeliveryStatus] {
    use DeliveryStatus::*;
    match next {
        Queued => &[],
        Sent => &[Queued],
        Delivered => &[Queued, Sent],
        Read => &[Queued, Sent, Delivered],
        Failed => &[Queued, Sent],
    }
}

/// The guarded update to `next`, bound `($1 project, $2 message id, $3 at)`
/// and, for `failed` only, `$4` the reason; `None` when nothing moves to `next`. The `IN` list
/// holds only this module's fixed names, never input.
pub fn delivery_sql(next: DeliveryStatus) -> Option<String> {
    let from = delivery_from(next);
    if from.is_empty() {
        return None;
    }
    let list: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let stamps = match next {
        DeliveryStatus::Sent => "sent_at = COALESCE(sent_at, $3)",
        DeliveryStatus::Delivered => {
            "sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3)"
        }
        DeliveryStatus::Read => {
            "sent_at = COALESCE(sent_at, $3), delivered_at = COALESCE(delivered_at, $3),
             read_at = COALESCE(read_at, $3)"
        }
        DeliveryStatus::Failed | DeliveryStatus::Queued => "failed_reason = $4",
    };
    Some(format!(
        "UPDATE messages SET delivery_status = '{}', {stamps}
         WHERE project_id = $1 AND id = $2 AND delivery_status IN ({})",
        next.as_str(),
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    #[test]
    fn transitions() {
        use Status::*;
        assert_eq!(transition(Open, Open), Transition::None);
        assert_eq!(transition(Open, Pending), Transition::Plain);
        assert_eq!(transition(Pending, Resolved), Transition::Resolve);
        assert_eq!(transition(Open, Closed), Transition::Resolve);
        assert_eq!(transition(Resolved, Closed), Transition::Plain);
        assert_eq!(transition(Resolved, Open), Transition::Reopen);
        assert_eq!(transition(Closed, Pending), Transition::Reopen);
    }

    #[test]
    fn delivery_only_moves_forward() {
        assert!(delivery_from(Queued).is_empty());
        assert!(!delivery_from(Delivered).contains(&Read));
        assert!(!delivery_from(Failed).contains(&Delivered));
        assert!(!delivery_from(Failed).contains(&Read));
        assert!(delivery_from(Read).contains(&Queued));
        for s in DeliveryStatus::ALL {
            assert!(!delivery_from(*s).contains(s), "{s:?} from itself");
            assert!(!delivery_from(*s).contains(&Read) && !delivery_from(*s).contains(&Failed));
        }
    }
}
