//! `subscription`: the state of a subscription as the billing system sees it
//! now. Props (all required): `subscription_id`, `plan`, `status`
//! (`trialing|active|past_due|canceled`), `amount` (integer minor units per
//! interval), `currency` (ISO 4217), `interval` (`month|year`).

use serde_json::{Map, Value};

use super::{amount, currency_prop, id_string, one_of, opt_plan, required};
use crate::FieldError;

pub const STATUSES: [&str; 4] = ["trialing", "active", "past_due", "canceled"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub subscription_id: String,
    pub plan: String,
    pub status: &'static str,
    pub amount: i64,
    pub currency: String,
    /// `month` or `year`.
    pub interval: &'static str,
}

impl Subscription {
    /// Parses the props of a `subscription` event; errors name `{field}.props.<key>`.
    pub fn parse(props: Option<&Map<String, Value>>, field: &str) -> Result<Self, FieldError> {
        let subscription_id = id_string(
            required(props, "subscription_id", field)?,
            "subscription_id",
            field,
        )?;
        required(props, "plan", field)?;
        let plan = opt_plan(props, "plan", field)?
            .ok_or_else(|| FieldError::missing(format!("{field}.props.plan")))?;
        Ok(Self {
            subscription_id,
            plan,
            status: one_of(
                required(props, "status", field)?,
                "status",
                field,
                &STATUSES,
            )?,
            amount: amount(required(props, "amount", field)?, "amount", field)?,
            currency: currency_prop(required(props, "currency", field)?, "currency", field)?,
            interval: one_of(
                required(props, "interval", field)?,
                "interval",
                field,
                &["month", "year"],
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok() -> Value {
        json!({"subscription_id":"sub_1","plan":"pro","status":"active","amount":12000,"currency":"usd","interval":"year"})
    }

    #[test]
    fn parses_and_names_bad_fields() {
        let s = Subscription::parse(ok().as_object(), "body").unwrap();
        assert_eq!(
            (s.currency.as_str(), s.interval, s.status),
            ("USD", "year", "active")
        );
        for (key, bad, code) in [
            ("subscription_id", json!(null), "missing_field"),
            ("plan", json!(null), "missing_field"),
            ("status", json!("paused"), "invalid_field"),
            ("amount", json!(-5), "invalid_field"),
            ("currency", json!("dollars"), "invalid_field"),
            ("interval", json!("week"), "invalid_field"),
            ("interval", json!(null), "missing_field"),
        ] {
            let mut v = ok();
            v[key] = bad;
            let e = Subscription::parse(v.as_object(), "batch[3]").unwrap_err();
            assert_eq!((e.field, e.code), (format!("batch[3].props.{key}"), code));
        }
    }
}
