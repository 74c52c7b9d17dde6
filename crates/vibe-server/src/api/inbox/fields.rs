//! Reading the inbox's request bodies field by field into typed values, each
//! refusal a 400 naming the field (serde's own errors name the value).

use serde_json::Value;

use crate::error::{ApiError, ApiResult};

pub const MAX_BODY_CHARS: usize = 10_000;
pub const MAX_SHORT_CHARS: usize = 200;

/// Text without NUL (PostgreSQL refuses it), trimmed, non-empty, at most `max` characters.
pub fn text(field: &str, v: &Value, max: usize) -> ApiResult<String> {
    let s = v
        .as_str()
        .ok_or_else(|| ApiError::invalid_field(field, "must be a string"))?;
    let s = s.trim();
    if s.is_empty() {
        return Err(ApiError::invalid_field(field, "must not be empty"));
    }
    if s.contains('\0') {
        return Err(ApiError::invalid_field(field, "must not contain NUL"));
    }
    crate::domain::at_most(field, s.chars().count(), max)?;
    Ok(s.to_owned())
}

/// `null` → `None`, otherwise [`text`].
pub fn opt_text(field: &str, v: &Value, max: usize) -> ApiResult<Option<String>> {
    if v.is_null() {
        return Ok(None);
    }
    text(field, v, max).map(Some)
}

pub fn flag(field: &str, v: &Value) -> ApiResult<bool> {
    v.as_bool()
        .ok_or_else(|| ApiError::invalid_field(field, "must be true or false"))
}

/// One of a closed set of names (`parse` from the store's model, `names` for the message).
pub fn name<T>(field: &str, v: &Value, parse: fn(&str) -> Option<T>, names: &str) -> ApiResult<T> {
    v.as_str().and_then(parse).ok_or_else(|| {
        ApiError::invalid_field(field, format!("must be one of {}", names.trim_end()))
    })
}

/// The same for a query-string value.
pub fn query_name<T>(
    field: &str,
    raw: &str,
    parse: fn(&str) -> Option<T>,
    names: &str,
) -> ApiResult<T> {
    parse(raw).ok_or_else(|| {
        ApiError::invalid_field(field, format!("must be one of {}", names.trim_end()))
    })
}

pub fn int_in(field: &str, v: &Value, min: i64, max: i64) -> ApiResult<i64> {
    v.as_i64()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::invalid_field(field, format!("must be an integer from {min} to {max}"))
        })
}

pub fn unknown(field: &str, known: &str) -> ApiError {
    ApiError::invalid_field(field, format!("is not a field here ({known})"))
}

/// Attachment metadata: a list of at most 20 objects (name, type, size,
/// url…; stored as given), at most 16 KiB as JSON. Files themselves are
/// not stored by Vibe.
pub fn attachments(v: &Value) -> ApiResult<String> {
    let list = v
        .as_array()
        .ok_or_else(|| ApiError::invalid_field("attachments", "must be a list of objects"))?;
    if list.len() > 20 {
        return Err(ApiError::invalid_field(
            "attachments",
            "at most 20 attachments",
        ));
    }
    if let Some(i) = list.iter().position(|a| !a.is_object()) {
        return Err(ApiError::invalid_field(
            &format!("attachments[{i}]"),
            "must be an object",
        ));
    }
    let text = v.to_string();
    if text.len() > 16 * 1024 || text.contains("\\u0000") {
        return Err(ApiError::invalid_field(
            "attachments",
            "must be at most 16 KiB of JSON without NUL",
        ));
    }
    Ok(text)
}

/// Business hours: `{"mon": [["09:00", "17:00"]], …}` — for each weekday
/// (`mon` … `sun`) the open intervals in the project's time zone, each
/// start before its end; a day not listed is closed. `null` = always open.
pub fn business_hours(v: &Value) -> ApiResult<Option<String>> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if v.is_null() {
        return Ok(None);
    }
    let days = v.as_object().ok_or_else(|| {
        ApiError::invalid_field("business_hours", "must be an object of weekdays")
    })?;
    let minutes = |s: &str| -> Option<u32> {
        let (h, m) = s.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440 && s.len() == 5).then_some(h * 60 + m)
    };
    for (day, spans) in days {
        let field = format!("business_hours.{day}");
        if !DAYS.contains(&day.as_str()) {
            return Err(ApiError::invalid_field(
                &field,
                "is not a weekday (mon … sun)",
            ));
        }
        let spans = spans.as_array().ok_or_else(|| {
            ApiError::invalid_field(&field, "must be a list of [\"HH:MM\", \"HH:MM\"]")
        })?;
        for (i, span) in spans.iter().enumerate() {
            let bounds: Option<(u32, u32)> =
                span.as_array().and_then(|pair| match pair.as_slice() {
                    [a, b] => Some((minutes(a.as_str()?)?, minutes(b.as_str()?)?)),
                    _ => None,
                });
            match bounds {
                Some((a, b)) if a < b => {}
                _ => {
                    return Err(ApiError::invalid_field(
                        &format!("{field}[{i}]"),
                        "must be [\"HH:MM\", \"HH:MM\"], the start before the end",
                    ))
                }
            }
        }
    }
    Ok(Some(v.to_string()))
}
