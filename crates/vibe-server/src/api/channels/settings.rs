//! What each channel kind's settings are: the typed body of
//! `PUT /channels/{kind}`, validated field by field (a refusal names the
//! field), split into the public `config` (JSON text, shown back) and the
//! write-only secrets (one JSON object, sealed by `vault.rs`). A PUT that
//! leaves a secret out keeps the stored one.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::domain::Email;
use crate::error::{ApiError, ApiResult};

pub const WHATSAPP_API_BASE: &str = "https://graph.facebook.com/v21.0";
pub const TWILIO_API_BASE: &str = "https://api.twilio.com";
/// Longest accepted secret or setting, in bytes.
const MAX_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InApp,
    Email,
    Whatsapp,
    Twilio,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Email, Kind::InApp, Kind::Twilio, Kind::Whatsapp];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InApp => "in_app",
            Kind::Email => "email",
            Kind::Whatsapp => "whatsapp",
            Kind::Twilio => "twilio",
        }
    }

    pub fn parse(s: &str) -> ApiResult<Self> {
        Ok(match s {
            "in_app" => Kind::InApp,
            "email" => Kind::Email,
            "whatsapp" => Kind::Whatsapp,
            "twilio" => Kind::Twilio,
            _ => {
                return Err(ApiError::field(
                    "invalid_field",
                    "kind",
                    "must be one of in_app, email, whatsapp, twilio",
                ))
            }
        })
    }

    /// The write-only fields of this kind, and whether each must be set.
    pub fn secret_fields(self) -> &'static [(&'static str, bool)] {
        match self {
            Kind::InApp => &[],
            Kind::Email => &[("password", false), ("inbound_secret", false)],
            Kind::Whatsapp => &[
                ("access_token", true),
                ("app_secret", true),
                ("verify_token", true),
            ],
            Kind::Twilio => &[("auth_token", true)],
        }
    }

    /// The associated data a secret of this channel is sealed with, so a
    /// sealed blob copied to another project's row does not open.
    pub fn seal_owner(self, project_id: &str) -> String {
        format!("channel:{project_id}:{}", self.as_str())
    }
}

/// A channel's write-only values by field name.
pub type Secrets = BTreeMap<String, String>;

/// A validated PUT body.
#[derive(Debug)]
pub struct Validated {
    pub enabled: bool,
    /// The public settings, defaults filled in.
    pub config: Value,
    /// Only the secrets the body gave; merged with the stored ones by [`merge`].
    pub given: Secrets,
}

/// The body's fields, read one by one so every refusal names its field.
struct Fields(serde_json::Map<String, Value>);

impl Fields {
    fn parse(body: &[u8], allowed: &[&str]) -> ApiResult<Self> {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "invalid_json",
                format!("request body is not valid JSON: {e}"),
            )
        })?;
        let Value::Object(map) = v else {
            return Err(ApiError::field(
                "invalid_field",
                "body",
                "must be a JSON object",
            ));
        };
        if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::field(
                "invalid_field",
                k,
                format!("unknown field; expected one of {}", allowed.join(", ")),
            ));
        }
        Ok(Self(map))
    }

    /// A string field; `None` when absent or null.
    fn opt_str(&self, name: &str) -> ApiResult<Option<String>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::field("invalid_field", name, "must be a string")),
        }
    }

    fn str(&self, name: &str) -> ApiResult<String> {
        self.opt_str(name)?.ok_or_else(|| {
            ApiError::field("missing_field", name, format!("missing field `{name}`"))
        })
    }

    fn bool_or(&self, name: &str, default: Option<bool>) -> ApiResult<bool> {
        match (self.0.get(name), default) {
            (Some(Value::Bool(b)), _) => Ok(*b),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(ApiError::field(
                "missing_field",
                name,
                format!("missing field `{name}`"),
            )),
            (Some(_), _) => Err(ApiError::field(
                "invalid_field",
                name,
                "must be true or false",
            )),
        }
    }
}

/// Parses and checks `body` as `kind`'s settings.
pub fn validate(kind: Kind, body: &[u8]) -> ApiResult<Validated> {
    let mut given = Secrets::new();
    let mut secret = |f: &Fields, name: &str| -> ApiResult<()> {
        if let Some(v) = f.opt_str(name)? {
            if v.is_empty() || v.len() > MAX_LEN || v.chars().any(char::is_control) {
                return Err(ApiError::field(
                    "invalid_field",
                    name,
                    format!("must be 1 to {MAX_LEN} bytes without control characters"),
                ));
            }
            given.insert(name.to_owned(), v);
        }
        Ok(())
    };
    let (enabled, config) = match kind {
        Kind::InApp => {
            let f = Fields::parse(body, &["enabled"])?;
            (f.bool_or("enabled", None)?, json!({}))
        }
        Kind::Email => {
            let f = Fields::parse(
                body,
                &[
                    "enabled",
                    "smtp_host",
                    "smtp_port",
                    "tls",
                    "username",
                    "password",
                    "inbound_secret",
                    "from_address",
                    "from_name",
                ],
            )?;
            let host = f.str("smtp_host")?.trim().to_owned();
            if host.is_empty()
                || host.len() > 253
                || !host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
            {
                return Err(ApiError::field(
                    "invalid_field",
                    "smtp_host",
                    "must be a host name or IP address",
                ));
            }
            let port = match f.0.get("smtp_port") {
                Some(Value::Number(n)) => n.as_u64().filter(|p| (1..=65535).contains(p)),
                None => {
                    return Err(ApiError::field(
                        "missing_field",
                        "smtp_port",
                        "missing field `smtp_port`",
                    ))
                }
                Some(_) => None,
            }
            .ok_or_else(|| ApiError::field("invalid_field", "smtp_port", "must be 1 to 65535"))?;
            let tls = f.str("tls")?;
            if !matches!(tls.as_str(), "none" | "starttls" | "tls") {
                return Err(ApiError::field(
                    "invalid_field",
                    "tls",
                    "must be none, starttls or tls",
                ));
            }
            let username = text("username", f.opt_str("username")?, 320)?;
            let from_address = Email::parse("from_address", &f.str("from_address")?)?.into_inner();
            let from_name = text("from_name", f.opt_str("from_name")?, 200)?;
            secret(&f, "password")?;
            // Optional, but without it the inbound-mail webhook answers 401.
            secret(&f, "inbound_secret")?;
            (
                f.bool_or("enabled", Some(true))?,
                json!({"smtp_host": host, "smtp_port": port, "tls": tls,
                    "username": username, "from_address": from_address, "from_name": from_name}),
            )
        }
        Kind::Whatsapp => {
            let f = Fields::parse(
                body,
                &[
                    "enabled",
                    "phone_number_id",
                    "access_token",
                    "app_secret",
                    "verify_token",
                    "api_base_url",
                ],
            )?;
            let id = f.str("phone_number_id")?.trim().to_owned();
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|c| c.is_ascii_digit()) {
                return Err(ApiError::field(
                    "invalid_field",
                    "phone_number_id",
                    "must be the numeric phone number id from the WhatsApp Manager",
                ));
            }
            secret(&f, "access_token")?;
            secret(&f, "app_secret")?;
            secret(&f, "verify_token")?;
            let base = base_url(f.opt_str("api_base_url")?, WHATSAPP_API_BASE)?;
            (
                f.bool_or("enabled", Some(true))?,
                json!({"phone_number_id": id, "api_base_url": base}),
            )
        }
        Kind::Twilio => {
            let f = Fields::parse(
                body,
                &[
                    "enabled",
                    "account_sid",
                    "auth_token",
                    "from",
                    "api_base_url",
                ],
            )?;
            let sid = f.str("account_sid")?.trim().to_owned();
            if !(sid.len() == 34
                && sid.starts_with("AC")
                && sid[2..].bytes().all(|c| c.is_ascii_hexdigit()))
            {
                return Err(ApiError::field(
                    "invalid_field",
                    "account_sid",
                    "must be AC followed by 32 hex digits",
                ));
            }
            let from = f.str("from")?.trim().to_owned();
            if !valid_twilio_from(&from) {
                return Err(ApiError::field(
                    "invalid_field",
                    "from",
                    "must be an E.164 number (+15551234567), whatsapp:+… or a messaging service SID (MG…)",
                ));
            }
            secret(&f, "auth_token")?;
            let base = base_url(f.opt_str("api_base_url")?, TWILIO_API_BASE)?;
            (
                f.bool_or("enabled", Some(true))?,
                json!({"account_sid": sid, "from": from, "api_base_url": base}),
            )
        }
    };
    Ok(Validated {
        enabled,
        config,
        given,
    })
}

/// `given` over `stored`, then every required secret must be present.
pub fn merge(kind: Kind, stored: Secrets, given: Secrets) -> ApiResult<Secrets> {
    let mut all = stored;
    all.extend(given);
    all.retain(|k, _| kind.secret_fields().iter().any(|(f, _)| f == k));
    for (field, required) in kind.secret_fields() {
        if *required && !all.contains_key(*field) {
            return Err(ApiError::field(
                "missing_field",
                field,
                format!("{field} is required (it is stored write-only; send it once)"),
            ));
        }
    }
    Ok(all)
}

/// What an answer shows of each secret: whether it is set and, for values
/// of 8 characters or more, their last 4 (shorter ones would give away too
/// much of themselves).
pub fn secret_hints(kind: Kind, secrets: Option<&Secrets>) -> Value {
    let mut out = serde_json::Map::new();
    for (field, _) in kind.secret_fields() {
        let hint = match secrets.and_then(|s| s.get(*field)) {
            Some(v) => {
                let chars: Vec<char> = v.chars().collect();
                let hint = if chars.len() >= 8 {
                    format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
                } else {
                    "…".to_owned()
                };
                json!({"set": true, "hint": hint})
            }
            // Stored but unreadable (the key changed): set, no hint.
            None if secrets.is_none() => json!({"set": true, "hint": null}),
            None => json!({"set": false}),
        };
        out.insert((*field).to_owned(), hint);
    }
    Value::Object(out)
}

fn text(field: &str, v: Option<String>, max: usize) -> ApiResult<Option<String>> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(ApiError::field(
                "invalid_field",
                field,
                format!("must be at most {max} characters"),
            ))
        }
        other => Ok(other),
    }
}

fn base_url(v: Option<String>, default: &str) -> ApiResult<String> {
    let Some(v) = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) else {
        return Ok(default.to_owned());
    };
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && v.len() <= 512
                && !r.starts_with('/')
                && !v.contains(|c: char| c.is_whitespace() || matches!(c, '?' | '#')) =>
        {
            Ok(v.trim_end_matches('/').to_owned())
        }
        _ => Err(ApiError::field(
            "invalid_field",
            "api_base_url",
            "must be an http:// or https:// URL without query",
        )),
    }
}

fn valid_twilio_from(from: &str) -> bool {
    let e164 = |n: &str| {
        n.strip_prefix('+')
            .is_some_and(|d| (7..=15).contains(&d.len()) && d.bytes().all(|c| c.is_ascii_digit()))
    };
    e164(from)
        || from.strip_prefix("whatsapp:").is_some_and(e164)
        || (from.len() == 34
            && from.starts_with("MG")
            && from[2..].bytes().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Client { field, .. } => field.unwrap_or_default(),
            other => panic!("not a client error: {other}"),
        }
    }

    #[test]
    fn each_kind_names_the_bad_field() {
        let bad =
            |kind, body: Value| field_of(validate(kind, body.to_string().as_bytes()).unwrap_err());
        let email = json!({"smtp_host": "smtp.example.com", "smtp_port": 587, "tls": "starttls",
            "from_address": "help@example.com"});
        assert!(validate(Kind::Email, email.to_string().as_bytes()).is_ok());
        let mut e = email.clone();
        e["tls"] = json!("ssl");
        assert_eq!(bad(Kind::Email, e), "tls");
        let mut e = email.clone();
        e["smtp_port"] = json!(70000);
        assert_eq!(bad(Kind::Email, e), "smtp_port");
        let mut e = email.clone();
        e["from_address"] = json!("nope");
        assert_eq!(bad(Kind::Email, e), "from_address");
        let mut e = email.clone();
        e["smtp_host"] = json!("bad host");
        assert_eq!(bad(Kind::Email, e), "smtp_host");
        assert_eq!(bad(Kind::Email, json!({"smtp_port": 25})), "smtp_host");
        assert_eq!(
            bad(Kind::Whatsapp, json!({"phone_number_id": "12a"})),
            "phone_number_id"
        );
        assert_eq!(
            bad(
                Kind::Whatsapp,
                json!({"phone_number_id": "12", "api_base_url": "ftp://x"})
            ),
            "api_base_url"
        );
        assert_eq!(
            bad(
                Kind::Twilio,
                json!({"account_sid": "AC12", "from": "+15551234567"})
            ),
            "account_sid"
        );
        let sid = format!("AC{}", "a".repeat(32));
        assert_eq!(
            bad(Kind::Twilio, json!({"account_sid": sid, "from": "555"})),
            "from"
        );
        assert_eq!(bad(Kind::InApp, json!({"enabled": "yes"})), "enabled");
        assert_eq!(bad(Kind::InApp, json!({"enabled": true, "x": 1})), "x");
    }

    #[test]
    fn defaults_and_secrets() {
        let v = validate(
            Kind::Whatsapp,
            br#"{"phone_number_id": "106540352242922", "app_secret": "s"}"#,
        )
        .unwrap();
        assert_eq!(v.config["api_base_url"], WHATSAPP_API_BASE);
        assert!(v.enabled);
        assert_eq!(v.given.len(), 1);
        // Merging keeps stored secrets the body left out and requires the rest.
        let err = merge(Kind::Whatsapp, Secrets::new(), v.given.clone()).unwrap_err();
        assert_eq!(field_of(err), "access_token");
        let stored: Secrets = [
            ("access_token", "t"),
            ("verify_token", "v"),
            ("app_secret", "old"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let all = merge(Kind::Whatsapp, stored, v.given).unwrap();
        assert_eq!(all["app_secret"], "s");
        assert_eq!(all["access_token"], "t");
    }

    #[test]
    fn hints_show_only_the_last_four_of_long_values() {
        let s: Secrets = [("auth_token".to_owned(), "0123456789abcdef".to_owned())].into();
        assert_eq!(
            secret_hints(Kind::Twilio, Some(&s)),
            json!({"auth_token": {"set": true, "hint": "…cdef"}})
        );
        let short: Secrets = [("password".to_owned(), "pw12".to_owned())].into();
        assert_eq!(
            secret_hints(Kind::Email, Some(&short)),
            json!({"password": {"set": true, "hint": "…"}, "inbound_secret": {"set": false}})
        );
        assert_eq!(
            secret_hints(Kind::Email, Some(&Secrets::new())),
            json!({"password": {"set": false}, "inbound_secret": {"set": false}})
        );
    }
}
