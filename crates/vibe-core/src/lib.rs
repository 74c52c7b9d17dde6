//! Domain types shared by every Vibe crate: validated inbound messages, user-agent
//! classification, and the small value types the API and storage agree on.
//! Nothing here knows about HTTP or runs SQL (the `sqlx` feature only derives
//! row decoding for the types the store reads back).

pub mod day;
pub mod error;
pub mod message;
pub mod reserved;
pub mod secret;
pub mod time;
pub mod ua;

pub use error::FieldError;
pub use message::{Message, MessageKind};
