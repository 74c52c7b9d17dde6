//! Inbox domain: conversations with a tracked person over any channel, their
//! messages, teams and inboxes, agent status logs and SLA policies. The
//! support timers and the delivery-status order are decided once, in
//! [`timers`]; who sees which conversation is one SQL condition, [`Scope`],
//! part of every conversation and message statement. All SQL is shared (see
//! `crate::db`); every statement filters by project.

mod agents;
pub mod automation;
pub mod broadcasts;
pub mod business_hours;
mod conversations;
pub mod external;
pub mod inbound;
pub mod inbound_email;
mod messages;
mod model;
pub mod outbox;
pub mod reporting;
mod scope;
mod sla;
pub(crate) mod sql;
mod teams;
pub mod timers;
mod visitor;

use async_trait::async_trait;

pub use broadcasts::{Broadcast, BroadcastPerson, BroadcastStats, NewBroadcast};
pub use external::ContactRef;
pub use inbound::{InboundContactMessage, InboundOutcome, InboundStatus};
pub use inbound_email::{InboundEmail, InboundEmailOutcome};
pub use model::*;
pub use outbox::{ChannelQueue, OutboundGroup, OutboundJob, QueueCounts, QueueStats};
pub use scope::Scope;

use crate::db::HasDb;
use crate::StoreResult;

#[async_trait]
pub trait InboxStore: HasDb {
    // Conversations.

    /// Creates a conversation, or returns the one with the same external id
    /// (`false`). `NotFound` when the inbox named is not the project's.
    async fn create_conversation(
        &self,
        project_id: &str,
        new: &NewConversation,
    ) -> StoreResult<(Conversation, bool)> {
        conversations::create(self.db(), project_id, new).await
    }

    async fn conversation(
        &self,
        project_id: &str,
        scope: &Scope,
        id: &str,
    ) -> StoreResult<Option<Conversation>> {
        conversations::get(self.db(), project_id, scope, id).await
    }

    async fn list_conversations(
        &self,
        project_id: &str,
        scope: &Scope,
        query: &ConversationQuery,
    ) -> StoreResult<Page<Conversation>> {
        conversations::list(self.db(), project_id, scope, query).await
    }

    /// The project's conversation with that external id (unscoped: the
    /// support API's caller is the project itself).
    async fn conversation_by_external_id(
        &self,
        project_id: &str,
        external_id: &str,
    ) -> StoreResult<Option<Conversation>> {
        conversations::by_external_id(self.db(), project_id, external_id).await
    }

    /// The person a reported contact is, created if needed (see
    /// [`external`]); `None` for an unknown anonymous id.
    async fn support_contact(
        &self,
        project_id: &str,
        contact: &ContactRef,
        at_ms: i64,
    ) -> StoreResult<Option<String>> {
        external::contact(self.db(), project_id, contact, at_ms).await
    }

    /// `None` when `scope` may not see the conversation.
    async fn update_conversation(
        &self,
        project_id: &str,
        scope: &Scope,
        id: &str,
        patch: &ConversationPatch,
        now_ms: i64,
    ) -> StoreResult<Option<Conversation>> {
        conversations::update(self.db(), project_id, scope, id, patch, now_ms).await
    }

    // Messages.

    /// `None` when `scope` may not see the conversation; `false` when the
    /// channel's message id was already stored (that message comes back).
    async fn add_message(
        &self,
        project_id: &str,
        scope: &Scope,
        new: &NewMessage,
    ) -> StoreResult<Option<(Message, bool)>> {
        messages::add(self.db(), project_id, scope, new).await
    }

    async fn messages(
        &self,
        project_id: &str,
        scope: &Scope,
        conversation_id: &str,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> StoreResult<Option<Page<Message>>> {
        messages::list(self.db(), project_id, scope, conversation_id, cursor, limit).await
    }

    /// One message by id, unscoped: for the live feed, which checks each
    /// subscriber's scope against the message's conversation itself.
    async fn message(&self, project_id: &str, message_id: &str) -> StoreResult<Option<Message>> {
        messages::get(self.db(), project_id, message_id).await
    }

    /// One message by the provider's id on `channel`, unscoped (live feed).
    async fn message_by_channel_id(
        &self,
        project_id: &str,
        channel: Channel,
        channel_message_id: &str,
    ) -> StoreResult<Option<Message>> {
        messages::by_channel_id(self.db(), project_id, channel.as_str(), channel_message_id).await
    }

    /// Monotonic and idempotent (see [`timers`]); the message as stored after.
    async fn set_delivery_status(
        &self,
        project_id: &str,
        message_id: &str,
        status: DeliveryStatus,
        at_ms: i64,
        failed_reason: Option<&str>,
    ) -> StoreResult<Option<Message>> {
        messages::set_delivery(
            self.db(),
            project_id,
            message_id,
            status,
            at_ms,
            failed_reason,
        )
        .await
    }

    /// [`Self::set_delivery_status`] by the provider's message id.
    async fn set_delivery_status_by_channel_id(
        &self,
        project_id: &str,
        channel: Channel,
        channel_message_id: &str,
        status: DeliveryStatus,
        at_ms: i64,
        failed_reason: Option<&str>,
    ) -> StoreResult<Option<Message>> {
        let db = self.db();
        let ch = channel.as_str();
        messages::set_delivery_by_channel_id(
            db,
            project_id,
            ch,
            channel_message_id,
            status,
            at_ms,
            failed_reason,
        )
        .await
    }

    /// Inbound messages up to `message_id` are read; the conversation after.
    async fn mark_read(
        &self,
        project_id: &str,
        scope: &Scope,
        conversation_id: &str,
        message_id: &str,
        now_ms: i64,
    ) -> StoreResult<Option<Conversation>> {
        messages::mark_read(
            self.db(),
            project_id,
            scope,
            conversation_id,
            message_id,
            now_ms,
        )
        .await
    }

    /// Stores one verified channel webhook delivery in one transaction:
    /// contacts by phone, their messages into conversations (idempotent on
    /// the provider's id), delivery statuses (see [`inbound`]).
    async fn receive_inbound(
        &self,
        project_id: &str,
        messages: &[InboundContactMessage],
        statuses: &[InboundStatus],
    ) -> StoreResult<InboundOutcome> {
        inbound::receive(self.db(), project_id, messages, statuses).await
    }

    /// The person a chat-widget visitor is (see [`visitor`]); `None` when
    /// the anonymous id names another person.
    async fn visitor_person(
        &self,
        project_id: &str,
        anonymous_id: &str,
        user_id: Option<&str>,
    ) -> StoreResult<Option<String>> {
        visitor::person(self.db(), project_id, anonymous_id, user_id).await
    }

    /// Stores one verified inbound email in one transaction: threaded into
    /// the conversation its `In-Reply-To`/`References` name, else a new
    /// conversation for the sender's person (see [`inbound_email`]).
    async fn receive_inbound_email(
        &self,
        project_id: &str,
        email: &InboundEmail,
    ) -> StoreResult<InboundEmailOutcome> {
        inbound_email::receive(self.db(), project_id, email).await
    }

    /// Sets an email conversation's subject if it has none (the first
    /// email sent in it); `false` when it had one or there is no such
    /// conversation.
    async fn fill_conversation_subject(
        &self,
        project_id: &str,
        id: &str,
        subject: &str,
    ) -> StoreResult<bool> {
        let n = self
            .db()
            .execute(
                "UPDATE conversations SET subject = $3
                 WHERE project_id = $1 AND id = $2 AND subject IS NULL",
                (project_id, id, subject),
            )
            .await?;
        Ok(n == 1)
    }

    /// One message of the project by id (any conversation, no scope: for
    /// the outbound sender).
    async fn message_by_id(&self, project_id: &str, id: &str) -> StoreResult<Option<Message>> {
        messages::by_id(self.db(), project_id, id).await
    }

    // Broadcasts (see [`broadcasts`]).

    /// Creates a broadcast and queues one message per person with a phone
    /// (their latest WhatsApp conversation, else a new one); again with the
    /// same id, nothing is added twice.
    async fn create_broadcast(
        &self,
        project_id: &str,
        new: &NewBroadcast,
        people: &[BroadcastPerson],
    ) -> StoreResult<Broadcast> {
        broadcasts::create(self.db(), project_id, new, people).await
    }

    async fn broadcast(&self, project_id: &str, id: &str) -> StoreResult<Option<Broadcast>> {
        broadcasts::get(self.db(), project_id, id).await
    }

    /// Newest first.
    async fn list_broadcasts(&self, project_id: &str, limit: i64) -> StoreResult<Vec<Broadcast>> {
        broadcasts::list(self.db(), project_id, limit).await
    }

    /// The broadcast's messages per delivery status.
    async fn broadcast_stats(&self, project_id: &str, id: &str) -> StoreResult<BroadcastStats> {
        broadcasts::stats(self.db(), project_id, id).await
    }

    /// Broadcasts created in `[from_ms, to_ms)` with their stats, newest
    /// first, at most `limit` (two reads however many).
    async fn broadcasts_created_between(
        &self,
        project_id: &str,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<(Broadcast, BroadcastStats)>> {
        broadcasts::created_between(self.db(), project_id, from_ms, to_ms, limit).await
    }

    // The outbox (see [`outbox`]).

    /// Claims up to `limit` due rows of any project but `busy` groups under
    /// `claim_id`, leased until `lease_until`; committed before it returns.
    async fn claim_outbound(
        &self,
        claim_id: &str,
        now_ms: i64,
        lease_until: i64,
        limit: i64,
        busy: &[OutboundGroup],
    ) -> StoreResult<Vec<OutboundJob>> {
        outbox::claim(self.db(), claim_id, now_ms, lease_until, limit, busy).await
    }

    /// Right before the request: `false` means the row is no longer this
    /// claim's to send.
    async fn start_outbound(
        &self,
        job: &OutboundJob,
        now_ms: i64,
        lease_until: i64,
    ) -> StoreResult<bool> {
        outbox::start(self.db(), job, now_ms, lease_until).await
    }

    /// A claim's rows of `group` not started go back to `pending`.
    async fn release_outbound(
        &self,
        claim_id: &str,
        group: &OutboundGroup,
        now_ms: i64,
    ) -> StoreResult<u64> {
        outbox::release(self.db(), claim_id, group, now_ms).await
    }

    async fn outbound_sent(
        &self,
        job: &OutboundJob,
        channel_message_id: &str,
        at_ms: i64,
    ) -> StoreResult<bool> {
        outbox::mark_sent(self.db(), job, channel_message_id, at_ms).await
    }

    async fn outbound_retry_later(
        &self,
        job: &OutboundJob,
        now_ms: i64,
        next_at: i64,
        error: &str,
    ) -> StoreResult<bool> {
        outbox::retry_later(self.db(), job, now_ms, next_at, error).await
    }

    async fn outbound_failed(
        &self,
        job: &OutboundJob,
        at_ms: i64,
        reason: &str,
    ) -> StoreResult<bool> {
        outbox::mark_failed(self.db(), job, at_ms, reason).await
    }

    /// Rows left `sending` past their lease: not started back to `pending`,
    /// started ones failed (never retried; returned).
    async fn sweep_outbound(&self, now_ms: i64) -> StoreResult<Vec<OutboundJob>> {
        outbox::sweep(self.db(), now_ms).await
    }

    async fn requeue_outbound(
        &self,
        project_id: &str,
        message_id: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        outbox::requeue(self.db(), project_id, message_id, now_ms).await
    }

    async fn outbound_queue_stats(&self, project_id: &str, now_ms: i64) -> StoreResult<QueueStats> {
        outbox::stats(self.db(), project_id, now_ms).await
    }

    /// Waiting or sending rows of every project, per channel.
    async fn outbound_queue_depth(&self) -> StoreResult<Vec<(String, i64)>> {
        outbox::depth(self.db()).await
    }

    async fn prune_sent_outbound(&self, before_ms: i64) -> StoreResult<u64> {
        outbox::prune_sent(self.db(), before_ms).await
    }

    /// An inbox's built-in bot settings (`None`: never set).
    async fn inbox_automation(
        &self,
        project_id: &str,
        inbox_id: &str,
    ) -> StoreResult<Option<automation::Automation>> {
        automation::get(self.db(), project_id, inbox_id).await
    }

    async fn put_inbox_automation(
        &self,
        project_id: &str,
        inbox_id: &str,
        settings: &automation::Automation,
        now_ms: i64,
    ) -> StoreResult<()> {
        automation::put(self.db(), project_id, inbox_id, settings, now_ms).await
    }

    /// The maintenance sweep: due auto-resolves and dropped conversations of
    /// every project (see [`automation`]).
    async fn support_sweep(&self, now_ms: i64) -> StoreResult<automation::Swept> {
        automation::sweep(self.db(), now_ms).await
    }

    /// The support reporting facts of one conversation, oldest first (see
    /// [`reporting`]).
    async fn support_events_of(
        &self,
        project_id: &str,
        conversation_id: &str,
    ) -> StoreResult<Vec<reporting::SupportEvent>> {
        reporting::of_conversation(self.db(), project_id, conversation_id).await
    }

    // Agents.

    /// Logs a status change (`id` names the new log row); the open row after.
    async fn set_agent_status(
        &self,
        project_id: &str,
        account_id: &str,
        status: AgentStatus,
        id: &str,
        now_ms: i64,
    ) -> StoreResult<AgentLog> {
        agents::set_status(self.db(), project_id, account_id, status, id, now_ms).await
    }

    async fn agent_status(
        &self,
        project_id: &str,
        account_id: &str,
    ) -> StoreResult<Option<AgentLog>> {
        agents::current(self.db(), project_id, account_id).await
    }

    /// Every agent's open log row (their current status).
    async fn agent_statuses(&self, project_id: &str) -> StoreResult<Vec<AgentLog>> {
        agents::all_current(self.db(), project_id).await
    }

    /// A dashboard socket of the agent is open now (see [`Self::stale_agents`]).
    async fn touch_agent(
        &self,
        project_id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        agents::touch(self.db(), project_id, account_id, now_ms).await
    }

    /// Online or away agents whose sockets have been gone for their project's
    /// online window: `(project, account, last seen)`.
    async fn stale_agents(&self, now_ms: i64) -> StoreResult<Vec<(String, String, i64)>> {
        agents::stale(self.db(), now_ms).await
    }

    async fn agent_log(
        &self,
        project_id: &str,
        account_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<AgentLog>> {
        agents::log(self.db(), project_id, account_id, limit).await
    }

    /// The agent's log rows overlapping `[from_ms, to_ms)`, oldest first
    /// (a row that began before and still ran at `from_ms` included; at
    /// most `limit` starting inside).
    async fn agent_activity_between(
        &self,
        project_id: &str,
        account_id: &str,
        from_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<AgentLog>> {
        agents::between(self.db(), project_id, account_id, from_ms, to_ms, limit).await
    }

    // Teams and inboxes.

    async fn teams(&self, project_id: &str) -> StoreResult<Vec<Team>> {
        teams::list(self.db(), project_id).await
    }

    async fn team(&self, project_id: &str, id: &str) -> StoreResult<Option<Team>> {
        teams::get(self.db(), project_id, id).await
    }

    /// `Conflict` when the name is taken in the project.
    async fn create_team(
        &self,
        project_id: &str,
        id: &str,
        name: &str,
        now_ms: i64,
    ) -> StoreResult<Team> {
        teams::create(self.db(), project_id, id, name, now_ms).await
    }

    async fn rename_team(&self, project_id: &str, id: &str, name: &str) -> StoreResult<Team> {
        teams::rename(self.db(), project_id, id, name).await
    }

    async fn delete_team(&self, project_id: &str, id: &str) -> StoreResult<()> {
        teams::delete(self.db(), project_id, id).await
    }

    async fn add_team_member(
        &self,
        project_id: &str,
        team_id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        teams::add_member(self.db(), project_id, team_id, account_id, now_ms).await
    }

    async fn remove_team_member(
        &self,
        project_id: &str,
        team_id: &str,
        account_id: &str,
    ) -> StoreResult<()> {
        teams::remove_member(self.db(), project_id, team_id, account_id).await
    }

    async fn teams_of(&self, project_id: &str, account_id: &str) -> StoreResult<Vec<String>> {
        teams::of_account(self.db(), project_id, account_id).await
    }

    async fn create_inbox(&self, project_id: &str, inbox: &Inbox) -> StoreResult<Inbox> {
        teams::create_inbox(self.db(), project_id, inbox).await
    }

    async fn inboxes(&self, project_id: &str) -> StoreResult<Vec<Inbox>> {
        teams::inboxes(self.db(), project_id).await
    }

    // SLA policies.

    async fn sla_policies(&self, project_id: &str) -> StoreResult<Vec<SlaPolicy>> {
        sla::list(self.db(), project_id).await
    }

    async fn put_sla_policy(&self, project_id: &str, policy: &SlaPolicy) -> StoreResult<SlaPolicy> {
        sla::put(self.db(), project_id, policy).await
    }

    async fn delete_sla_policy(&self, project_id: &str, priority: Priority) -> StoreResult<()> {
        sla::delete(self.db(), project_id, priority).await
    }
}
