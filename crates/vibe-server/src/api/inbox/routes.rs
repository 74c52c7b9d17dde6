//! The inbox domain's routes below `/projects/{id}`. Agents and supervisors
//! work conversations within their scope (the store filters; outside it is
//! 404); viewers get 403 on every conversation route; admins manage teams
//! and SLA policies; supervisors and above read the outbound queue.

use vibe_store::Role::{Admin, Agent, Supervisor};

use super::{
    agents, automation, contact, conversations, inboxes, messages, queue, read, sla, teams,
};
use crate::router::project_routes::{at, ProjectRoute, DELETE, GET, PATCH, POST, PUT};

pub fn routes() -> Vec<ProjectRoute> {
    vec![
        at("/conversations").on(GET, Agent, conversations::list).on(
            POST,
            Agent,
            conversations::create,
        ),
        at("/conversations/{cid}")
            .on(GET, Agent, conversations::get)
            .on(PATCH, Agent, conversations::patch),
        at("/conversations/{cid}/messages")
            .on(GET, Agent, messages::list)
            .on(POST, Agent, messages::create),
        at("/conversations/{cid}/messages/{mid}/read").on(POST, Agent, read::read),
        at("/conversations/{cid}/messages/{mid}/retry").on(POST, Agent, messages::retry),
        at("/outbound/queue").on(GET, Supervisor, queue::get),
        at("/users/{uid}/conversations")
            .on(GET, Agent, contact::list)
            .on(POST, Agent, contact::create),
        at("/agents").on(GET, Agent, agents::list),
        at("/agents/me/status").on(PUT, Agent, agents::set_status),
        at("/inboxes")
            .on(GET, Agent, inboxes::list)
            .on(POST, Admin, inboxes::create),
        at("/inboxes/{iid}/automation")
            .on(GET, Admin, automation::get)
            .on(PUT, Admin, automation::put),
        at("/teams")
            .on(GET, Agent, teams::list)
            .on(POST, Admin, teams::create),
        at("/teams/{tid}")
            .on(PATCH, Admin, teams::rename)
            .on(DELETE, Admin, teams::delete),
        at("/teams/{tid}/members/{account_id}")
            .on(PUT, Admin, teams::add_member)
            .on(DELETE, Admin, teams::remove_member),
        at("/sla-policies").on(GET, Agent, sla::list),
        at("/sla-policies/{priority}")
            .on(PUT, Admin, sla::put)
            .on(DELETE, Admin, sla::delete),
    ]
}
