//! API tests: every case runs against SQLite and PostgreSQL.

mod helpers;

mod accounts;
mod collect;
mod demo;
mod funnels;
mod isolation;
mod live;
mod members;
mod presence;
mod queue;
mod security;
mod stats;
mod users;
