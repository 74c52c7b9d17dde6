//! Query-string parameters shared by several handlers.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use crate::error::{ApiError, ApiResult};

/// An integer parameter such as `limit` or `days`: `default` when absent,
/// otherwise a number within `range` (400 naming the field if not).
pub fn int_in(
    q: &HashMap<String, String>,
    field: &str,
    default: i64,
    range: RangeInclusive<i64>,
) -> ApiResult<i64> {
    match q.get(field) {
        None => Ok(default),
        Some(raw) => int_value_in(field, raw, range),
    }
}

/// `raw` as an integer in `range`, else a 400 naming `field`.
pub fn int_value_in(field: &str, raw: &str, range: RangeInclusive<i64>) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ApiError::field(
                "invalid_field",
                field,
                format!("must be between {} and {}", range.start(), range.end()),
            )
        })
}
