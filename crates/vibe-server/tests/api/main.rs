//! API tests: every case runs against SQLite and PostgreSQL.

mod helpers;

mod access_matrix;
mod accounts;
mod agent_presence;
mod broadcasts;
mod channels;
mod chat;
mod collect;
mod crm;
mod demo;
mod email;
mod failure_isolation;
mod features;
mod flows;
mod funnels;
mod inbox;
mod isolation;
mod live;
mod live_backlog;
mod members;
mod outbound;
mod presence;
mod queue;
mod retention;
mod revenue;
mod security;
mod segments;
mod stats;
mod support_analytics;
mod support_api;
mod support_live;
mod users;
mod webhooks;
mod webhooks_inbox;
mod writer_health;
