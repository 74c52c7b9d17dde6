//! The parts of a person every list of people shows alike: the people list
//! (`users/`) and who is online (`tracking/online.rs`, the live feed). They are
//! flattened into those rows, so the JSON stays one flat object.

use serde::Serialize;
use serde_json::Value;

/// Who someone is: their ids, the promoted traits and all traits.
#[derive(Serialize)]
pub struct Person {
    pub anonymous_id: Option<String>,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Stored as JSON text; shown as the object (null if unreadable).
    pub traits: Value,
}

/// What they browse with, as classified at ingest.
#[derive(Serialize)]
pub struct Client {
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
}

pub fn traits(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or(Value::Null)
}
