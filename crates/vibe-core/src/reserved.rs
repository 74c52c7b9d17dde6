//! Reserved custom event names: events whose `props` feed a domain's tables
//! (revenue, AI usage). They are validated here, at the edge, so a bad value
//! is a 400 naming its field (`batch[3].props.amount`) and nothing is queued;
//! the store parses the same props again with the same functions. They are
//! accepted only from server-side `POST /api/v1/track` (secret key): the
//! browser collector refuses them, since anyone holding the public write key
//! could otherwise forge payments.

pub mod ai_usage;
pub mod payment;
pub mod subscription;

use serde_json::{Map, Value};

use crate::{FieldError, Message, MessageKind};

/// Every reserved name; [`check`] has one arm for each.
pub const RESERVED: [&str; 3] = ["payment", "subscription", "ai_usage"];

/// Validates the props of a reserved event; `None` if `name` is not reserved.
/// `field` is the message's path (`batch[3]`). One arm per reserved name.
fn check(
    name: &str,
    props: Option<&Map<String, Value>>,
    field: &str,
) -> Option<Result<(), FieldError>> {
    match name {
        "payment" => Some(payment::Payment::parse(props, field).map(drop)),
        "subscription" => Some(subscription::Subscription::parse(props, field).map(drop)),
        "ai_usage" => Some(ai_usage_props(props, field)),
        _ => None,
    }
}

/// Whether `name` is a reserved event name (the feature rollup asks for every
/// custom event, so this compares names and parses nothing).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name)
}

/// Checks a parsed message at the edge. `server_side` is true for messages
/// sent with a secret key; a reserved name from elsewhere is refused naming
/// `{field}.name`.
pub fn validate(m: &Message, field: &str, server_side: bool) -> Result<(), FieldError> {
    if m.kind != MessageKind::Event {
        return Ok(());
    }
    let Some(name) = m.name.as_deref() else {
        return Ok(());
    };
    match check(name, m.props.as_ref(), field) {
        None => Ok(()),
        Some(_) if !server_side => Err(FieldError::invalid(
            format!("{field}.name"),
            format!(
                "`{name}` is a reserved event name; send it from your backend with a secret key (POST /api/v1/track)"
            ),
        )),
        Some(result) => result,
    }
}

/// A required prop: present and not null.
pub(crate) fn required<'a>(
    props: Option<&'a Map<String, Value>>,
    key: &str,
    field: &str,
) -> Result<&'a Value, FieldError> {
    match props.and_then(|p| p.get(key)) {
        None | Some(Value::Null) => Err(FieldError::missing(format!("{field}.props.{key}"))),
        Some(v) => Ok(v),
    }
}

/// A non-empty string of at most 200 bytes.
pub(crate) fn id_string(v: &Value, key: &str, field: &str) -> Result<String, FieldError> {
    match v {
        Value::String(s) if !s.trim().is_empty() && s.len() <= crate::message::MAX_ID_LEN => {
            Ok(s.clone())
        }
        _ => Err(FieldError::invalid(
            format!("{field}.props.{key}"),
            "must be a non-empty string of at most 200 bytes",
        )),
    }
}

/// The largest amount accepted, in minor units (sums stay far from overflow).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// An amount in minor units: an integer, 0 ≤ amount ≤ [`MAX_AMOUNT`].
pub(crate) fn amount(v: &Value, key: &str, field: &str) -> Result<i64, FieldError> {
    v.as_i64()
        .filter(|a| (0..=MAX_AMOUNT).contains(a))
        .ok_or_else(|| {
            FieldError::invalid(
                format!("{field}.props.{key}"),
                "must be a non-negative integer amount in minor units (cents)",
            )
        })
}

/// An ISO 4217 code: three ASCII letters, returned upper case (`eur` → `EUR`).
pub fn currency(s: &str, field: &str) -> Result<String, FieldError> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(FieldError::invalid(
            field,
            "must be an ISO 4217 currency code of three letters, e.g. USD",
        ))
    }
}

pub(crate) fn currency_prop(v: &Value, key: &str, field: &str) -> Result<String, FieldError> {
    let f = format!("{field}.props.{key}");
    match v {
        Value::String(s) => currency(s, &f),
        _ => Err(FieldError::invalid(f, "must be a string")),
    }
}

/// One of `allowed` (a string).
pub(crate) fn one_of(
    v: &Value,
    key: &str,
    field: &str,
    allowed: &[&'static str],
) -> Result<&'static str, FieldError> {
    v.as_str()
        .and_then(|s| allowed.iter().find(|a| **a == s).copied())
        .ok_or_else(|| {
            FieldError::invalid(
                format!("{field}.props.{key}"),
                format!("must be one of {}", allowed.join(", ")),
            )
        })
}

/// An optional short string (a plan name).
pub(crate) fn opt_plan(
    props: Option<&Map<String, Value>>,
    key: &str,
    field: &str,
) -> Result<Option<String>, FieldError> {
    match props.and_then(|p| p.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.len() <= crate::message::MAX_SHORT_LEN => Ok(Some(s.clone())),
        Some(_) => Err(FieldError::invalid(
            format!("{field}.props.{key}"),
            "must be a string of at most 64 bytes",
        )),
    }
}

/// `ai_usage` reads its props as one object (absent = empty) at `{field}.props`.
fn ai_usage_props(props: Option<&Map<String, Value>>, field: &str) -> Result<(), FieldError> {
    let empty = Map::new();
    let props = props.unwrap_or(&empty);
    ai_usage::AiUsage::parse(props, &format!("{field}.props")).map(drop)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::TimestampPolicy;
    use serde_json::json;

    fn m(v: Value) -> Message {
        Message::parse(
            &v,
            "batch[3]",
            1_800_000_000_000,
            TimestampPolicy::AllowHistorical,
        )
        .unwrap()
    }

    #[test]
    fn every_reserved_name_is_checked() {
        for name in RESERVED {
            assert!(
                check(name, None, "m").is_some(),
                "{name} has no arm in check"
            );
        }
        assert!(check("signup", None, "m").is_none());
    }

    #[test]
    fn reserved_names_only_from_the_server() {
        let pay = m(
            json!({"type":"event","id":"0b6f7c1e-8f0a-4a57-9a53-2f1e6f0c9d11","user_id":"u",
            "name":"payment","props":{"payment_id":"p1","amount":100,"currency":"usd"}}),
        );
        assert!(validate(&pay, "batch[3]", true).is_ok());
        let e = validate(&pay, "batch[3]", false).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("invalid_field", "batch[3].name")
        );
        let other = m(
            json!({"type":"event","id":"0b6f7c1e-8f0a-4a57-9a53-2f1e6f0c9d11","user_id":"u","name":"signup"}),
        );
        assert!(validate(&other, "batch[3]", false).is_ok());
        assert!(is_reserved("subscription") && !is_reserved("signup"));
    }

    #[test]
    fn bad_props_name_the_field() {
        let bad = m(
            json!({"type":"event","id":"0b6f7c1e-8f0a-4a57-9a53-2f1e6f0c9d11","user_id":"u",
            "name":"payment","props":{"payment_id":"p1","amount":1.5,"currency":"usd"}}),
        );
        let e = validate(&bad, "batch[3]", true).unwrap_err();
        assert_eq!(e.field, "batch[3].props.amount");
    }
}
