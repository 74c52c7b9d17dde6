//! `payment`: one charge or its refund. Props: `payment_id` (string, unique
//! per project), `amount` (integer minor units, ≥ 0), `currency` (ISO 4217,
//! stored upper case), optional `plan`, `status` `succeeded` (default) or
//! `refunded`.

use serde_json::{Map, Value};

use super::{amount, currency_prop, id_string, one_of, opt_plan, required};
use crate::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
    pub plan: Option<String>,
    /// `succeeded` or `refunded`.
    pub status: &'static str,
}

impl Payment {
    /// Parses the props of a `payment` event; errors name `{field}.props.<key>`.
    pub fn parse(props: Option<&Map<String, Value>>, field: &str) -> Result<Self, FieldError> {
        let status = match props.and_then(|p| p.get("status")) {
            None | Some(Value::Null) => "succeeded",
            Some(v) => one_of(v, "status", field, &["succeeded", "refunded"])?,
        };
        Ok(Self {
            payment_id: id_string(required(props, "payment_id", field)?, "payment_id", field)?,
            amount: amount(required(props, "amount", field)?, "amount", field)?,
            currency: currency_prop(required(props, "currency", field)?, "currency", field)?,
            plan: opt_plan(props, "plan", field)?,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Payment, FieldError> {
        Payment::parse(v.as_object(), "batch[1]")
    }

    #[test]
    fn parses_and_normalises() {
        let p = parse(json!({"payment_id":"ch_1","amount":1999,"currency":"eur","plan":"pro"}))
            .unwrap();
        assert_eq!(p.currency, "EUR");
        assert_eq!(
            (p.amount, p.status, p.plan.as_deref()),
            (1999, "succeeded", Some("pro"))
        );
        let p = parse(json!({"payment_id":"ch_1","amount":0,"currency":"USD","status":"refunded"}))
            .unwrap();
        assert_eq!(p.status, "refunded");
    }

    #[test]
    fn names_each_bad_field() {
        let cases = [
            (
                json!({"amount":1,"currency":"USD"}),
                "batch[1].props.payment_id",
                "missing_field",
            ),
            (
                json!({"payment_id":5,"amount":1,"currency":"USD"}),
                "batch[1].props.payment_id",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","currency":"USD"}),
                "batch[1].props.amount",
                "missing_field",
            ),
            (
                json!({"payment_id":"p","amount":-1,"currency":"USD"}),
                "batch[1].props.amount",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":"10","currency":"USD"}),
                "batch[1].props.amount",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":10.5,"currency":"USD"}),
                "batch[1].props.amount",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":1,"currency":"US"}),
                "batch[1].props.currency",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":1,"currency":"U$D"}),
                "batch[1].props.currency",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":1,"currency":"USD","status":"paid"}),
                "batch[1].props.status",
                "invalid_field",
            ),
            (
                json!({"payment_id":"p","amount":1,"currency":"USD","plan":7}),
                "batch[1].props.plan",
                "invalid_field",
            ),
        ];
        for (props, field, code) in cases {
            let e = parse(props.clone()).unwrap_err();
            assert_eq!((e.field.as_str(), e.code), (field, code), "{props}");
        }
        let e = Payment::parse(None, "body").unwrap_err();
        assert_eq!(e.field, "body.props.payment_id");
    }
}
