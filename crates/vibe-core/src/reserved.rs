//! Reserved custom event names: events whose props the server interprets
//! (revenue, AI usage). They are validated here, at the edge, naming the field
//! (`batch[2].props.prompt_tokens`), and accepted only from the secret-key
//! `POST /api/v1/track`: a browser holding the public write key must not be
//! able to forge them. One submodule per event; the dispatch is one `match`.

pub mod ai_usage;

use serde_json::{Map, Value};

use crate::{FieldError, Message, MessageKind};

/// Every reserved name.
pub const RESERVED: &[&str] = &["payment", "subscription", "ai_usage"];

/// Whether `name` is reserved (its events are not counted as features).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// Checks a parsed message; `field` is its path (`batch[2]`), `trusted` is true
/// for messages sent with a secret key (`/api/v1/track`).
pub fn check(m: &Message, field: &str, trusted: bool) -> Result<(), FieldError> {
    let Some(name) = m.name.as_deref().filter(|n| is_reserved(n)) else {
        return Ok(());
    };
    if m.kind != MessageKind::Event {
        return Ok(());
    }
    if !trusted {
        return Err(FieldError::invalid(
            format!("{field}.name"),
            format!("`{name}` is reserved: send it from your server with a secret key (POST /api/v1/track)"),
        ));
    }
    let empty = Map::new();
    let props = m.props.as_ref().unwrap_or(&empty);
    let field = format!("{field}.props");
    match name {
        "ai_usage" => ai_usage::AiUsage::parse(props, &field).map(drop),
        _ => Ok(()),
    }
}

/// A required non-negative integer prop.
pub fn non_negative_int(
    props: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<i64, FieldError> {
    let f = format!("{field}.{key}");
    match props.get(key) {
        None | Some(Value::Null) => Err(FieldError::missing(f)),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|v| *v >= 0)
            .ok_or_else(|| FieldError::invalid(f, "must be a non-negative integer")),
        Some(_) => Err(FieldError::invalid(f, "must be a non-negative integer")),
    }
}

/// An optional string prop of at most `max` characters, not empty.
pub fn opt_string<'a>(
    props: &'a Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
) -> Result<Option<&'a str>, FieldError> {
    let f = format!("{field}.{key}");
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(FieldError::invalid(f, "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(FieldError::too_large(
            f,
            format!("must be at most {max} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(FieldError::invalid(f, "must be a string")),
    }
}
