//! Tracker messages, as the browser script sends them.

use serde_json::{json, Value};

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A browser message with a fresh id.
pub fn message(kind: &str, anon: &str, session: &str, extra: Value) -> Value {
    let mut m = json!({"type": kind, "id": uuid(), "anonymous_id": anon, "session_id": session});
    for (k, v) in extra.as_object().expect("object") {
        m[k] = v.clone();
    }
    m
}

pub fn pageview(anon: &str, session: &str, url: &str) -> Value {
    message(
        "pageview",
        anon,
        session,
        json!({"url": url, "title": "Page"}),
    )
}

/// A message of `kind` with no fields of its own (heartbeat, leave).
pub fn signal(kind: &str, anon: &str, session: &str) -> Value {
    message(kind, anon, session, json!({}))
}

/// A custom event named `name`.
pub fn event(anon: &str, session: &str, name: &str) -> Value {
    message("event", anon, session, json!({"name": name}))
}

pub fn identify(anon: &str, session: &str, user_id: &str, traits: Value) -> Value {
    message(
        "identify",
        anon,
        session,
        json!({"user_id": user_id, "traits": traits}),
    )
}
