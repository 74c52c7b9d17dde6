//! Inbox domain: conversations with a tracked person over any channel, their
//! messages, teams and inboxes, agent status logs and SLA policies. The
//! support timers and the delivery-status order are decided once, in
//! [`timers`]; who sees which conversation is one SQL condition, [`Scope`],
//! part of every conversation and message statement. All SQL is shared (see
//! `crate::db`); every statement filters by project.

mod agents;
pub mod automation;
pub mod business_hours;
mod conversations;
pub mod external;
pub mod inbound;
mod messages;
mod model;
mod scope;
mod sla;
mod sql;
mod teams;
pub mod timers;

use async_trait::async_trait;

pub use external::ContactRef;
pub use inbound::{InboundContactMessage, InboundOutcome, InboundStatus};
pub use model::*;
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

    async fn agent_log(
        &self,
        project_id: &str,
        account_id: &str,
        limit: i64,
    ) -> StoreResult<Vec<AgentLog>> {
        agents::log(self.db(), project_id, account_id, limit).await
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
