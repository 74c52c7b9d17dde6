//! The parts of a person every list of people shows alike: the people list
//! (`users/`) and who is online (`tracking/online.rs`, the live feed). They are
//! flattened into those rows, so the JSON stays one flat object.

use serde::Serialize;
use serde_json::Value;
use vibe_store::Identity;

/// Who someone is: their ids, the promoted traits and all traits.
#[derive(Serialize)]
pub struct Person {
    #[serde(flatten)]
    pub identity: Identity,
    /// Stored as JSON text; shown as the object (null if unreadable).
    pub traits: Value,
}

impl Person {
    pub fn new(identity: Identity, stored_traits: &str) -> Self {
        Self {
            identity,
            traits: serde_json::from_str(stored_traits).unwrap_or(Value::Null),
        }
    }
}
