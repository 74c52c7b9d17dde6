//! The CRM domain (`vibe_store::crm`): what admins keep about a tracked
//! person — tags, priority, properties (`contact.rs`, `PATCH /users/{uid}`),
//! the project's tags (`tags.rs`, `/tags`), notes (`notes.rs`,
//! `/users/{uid}/notes`) and the timeline (`timeline.rs`,
//! `/users/{uid}/timeline`), and the overview (`overview.rs`, `/crm/overview`).
//! The profile (`people/users`) shows the same fields.

pub mod contact;
pub mod notes;
pub mod overview;
pub mod routes;
pub mod tags;
pub mod timeline;
