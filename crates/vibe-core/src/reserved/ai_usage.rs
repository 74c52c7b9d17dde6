//! `ai_usage`: one call to a language model. Props: `model` (string,
//! required), `prompt_tokens` and `completion_tokens` (non-negative integers,
//! required), `cost_usd` (number ≥ 0, optional), `feature` (string, optional).

use serde_json::{Map, Value};

use super::{non_negative_int, opt_string};
use crate::FieldError;

/// Longest model or feature name.
pub const MAX_NAME_LEN: usize = 200;
/// Largest token count of one call, and largest cost in USD (keeps sums far
/// from overflowing 64 bits).
pub const MAX_TOKENS: i64 = 1_000_000_000_000;
pub const MAX_COST_USD: f64 = 1_000_000_000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct AiUsage<'a> {
    pub model: &'a str,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Cost in millionths of a US dollar (rounded), 0 when not sent.
    pub cost_micro_usd: i64,
    pub feature: Option<&'a str>,
}

impl<'a> AiUsage<'a> {
    /// Validates the props of an `ai_usage` event; `field` is their path
    /// (`batch[2].props`).
    pub fn parse(props: &'a Map<String, Value>, field: &str) -> Result<Self, FieldError> {
        let model = opt_string(props, "model", field, MAX_NAME_LEN)?
            .ok_or_else(|| FieldError::missing(format!("{field}.model")))?;
        let tokens = |key: &str| -> Result<i64, FieldError> {
            let v = non_negative_int(props, key, field)?;
            if v > MAX_TOKENS {
                return Err(FieldError::invalid(
                    format!("{field}.{key}"),
                    format!("must be at most {MAX_TOKENS}"),
                ));
            }
            Ok(v)
        };
        let prompt_tokens = tokens("prompt_tokens")?;
        let completion_tokens = tokens("completion_tokens")?;
        let cost_micro_usd = match props.get("cost_usd") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => match n.as_f64() {
                Some(c) if (0.0..=MAX_COST_USD).contains(&c) => (c * 1_000_000.0).round() as i64,
                _ => {
                    return Err(FieldError::invalid(
                        format!("{field}.cost_usd"),
                        format!("must be a number between 0 and {MAX_COST_USD}"),
                    ))
                }
            },
            Some(_) => {
                return Err(FieldError::invalid(
                    format!("{field}.cost_usd"),
                    "must be a number",
                ))
            }
        };
        let feature = opt_string(props, "feature", field, MAX_NAME_LEN)?;
        Ok(Self {
            model,
            prompt_tokens,
            completion_tokens,
            cost_micro_usd,
            feature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<i64, FieldError> {
        let props = v.as_object().unwrap().clone();
        AiUsage::parse(&props, "batch[2].props").map(|u| u.cost_micro_usd)
    }

    #[test]
    fn validates_and_names_the_field() {
        let ok = json!({"model": "gpt-4o", "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.0123});
        assert_eq!(parse(ok).unwrap(), 12_300);
        let e =
            parse(json!({"model": "m", "prompt_tokens": -1, "completion_tokens": 5})).unwrap_err();
        assert_eq!(e.field, "batch[2].props.prompt_tokens");
        let e =
            parse(json!({"model": "m", "prompt_tokens": 1.5, "completion_tokens": 5})).unwrap_err();
        assert_eq!(e.field, "batch[2].props.prompt_tokens");
        let e = parse(json!({"model": "m", "prompt_tokens": 1})).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            ("missing_field", "batch[2].props.completion_tokens")
        );
        let e = parse(json!({"prompt_tokens": 1, "completion_tokens": 1})).unwrap_err();
        assert_eq!(e.field, "batch[2].props.model");
        let e = parse(json!({"model": 3, "prompt_tokens": 1, "completion_tokens": 1})).unwrap_err();
        assert_eq!(e.field, "batch[2].props.model");
        let e = parse(
            json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": -0.5}),
        )
        .unwrap_err();
        assert_eq!(e.field, "batch[2].props.cost_usd");
        let e = parse(
            json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": "1"}),
        )
        .unwrap_err();
        assert_eq!(e.field, "batch[2].props.cost_usd");
        let e =
            parse(json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 1, "feature": 1}))
                .unwrap_err();
        assert_eq!(e.field, "batch[2].props.feature");
    }
}
