//! A `PushSubscription.toJSON()` from the page, checked field by field (each
//! refusal a 400 naming its JSON path) and normalised: the endpoint a URL the
//! server may POST to, the keys the sizes RFC 8291 needs, in base64url
//! without padding.

use base64::Engine;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// Browsers' endpoints are a few hundred characters.
pub const MAX_ENDPOINT_CHARS: usize = 2048;
/// Base64 of the 65-byte key or the 16-byte secret, with room for padding.
const MAX_KEY_CHARS: usize = 128;

#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

fn missing(field: &str, msg: &str) -> ApiError {
    ApiError::field("missing_field", field, msg)
}

fn object<'a>(
    v: &'a Value,
    field: &str,
    what: &str,
) -> ApiResult<&'a serde_json::Map<String, Value>> {
    match v {
        Value::Null => Err(missing(field, what)),
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::invalid_field(field, "must be an object")),
    }
}

fn string<'a>(v: Option<&'a Value>, field: &str, what: &str, max: usize) -> ApiResult<&'a str> {
    let s = match v {
        None | Some(Value::Null) => return Err(missing(field, what)),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(ApiError::invalid_field(field, "must be a string")),
    };
    if s.is_empty() {
        return Err(ApiError::invalid_field(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(s)
}

/// Base64url (what browsers give), also accepting padding or the standard
/// alphabet.
fn decode(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let trimmed = s.trim_end_matches('=');
    URL_SAFE_NO_PAD
        .decode(trimmed)
        .ok()
        .or_else(|| STANDARD.decode(s).ok())
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn parse(v: &Value, allow_http: bool) -> ApiResult<Parsed> {
    let sub = object(
        v,
        "subscription",
        "the browser's PushSubscription (toJSON())",
    )?;
    let endpoint = string(
        sub.get("endpoint"),
        "subscription.endpoint",
        "the push service URL",
        MAX_ENDPOINT_CHARS,
    )?;
    let url = reqwest::Url::parse(endpoint)
        .map_err(|_| ApiError::invalid_field("subscription.endpoint", "must be an absolute URL"))?;
    let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
    if !scheme_ok {
        return Err(ApiError::invalid_field(
            "subscription.endpoint",
            "must be an https:// URL",
        ));
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ApiError::invalid_field(
            "subscription.endpoint",
            "must name a host, without user or password",
        ));
    }
    let keys = object(
        sub.get("keys").unwrap_or(&Value::Null),
        "subscription.keys",
        "the subscription's keys {p256dh, auth}",
    )?;
    let p256dh = string(
        keys.get("p256dh"),
        "subscription.keys.p256dh",
        "the browser's public key",
        MAX_KEY_CHARS,
    )?;
    let p256dh = decode(p256dh)
        .filter(|b| b.len() == 65 && b[0] == 4 && p256::PublicKey::from_sec1_bytes(b).is_ok())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "subscription.keys.p256dh",
                "must be a P-256 public key (an uncompressed point, base64url)",
            )
        })?;
    let auth = string(
        keys.get("auth"),
        "subscription.keys.auth",
        "the browser's auth secret",
        MAX_KEY_CHARS,
    )?;
    let auth = decode(auth).filter(|b| b.len() == 16).ok_or_else(|| {
        ApiError::invalid_field("subscription.keys.auth", "must be 16 bytes, base64url")
    })?;
    Ok(Parsed {
        endpoint: url.to_string(),
        p256dh: encode(&p256dh),
        auth: encode(&auth),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use serde_json::json;

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::Client { field, .. } => field.unwrap_or_default(),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn parses_and_names_the_bad_field() {
        let key = p256::SecretKey::random(&mut rand::thread_rng());
        let point = key.public_key().to_encoded_point(false);
        let p256dh = encode(point.as_bytes());
        let auth = encode(&[9; 16]);
        let good = json!({"endpoint": "https://push.example/a/b", "expirationTime": null,
            "keys": {"p256dh": p256dh, "auth": auth}});
        let parsed = parse(&good, false).unwrap();
        assert_eq!(parsed.endpoint, "https://push.example/a/b");
        assert_eq!(
            (parsed.p256dh.as_str(), parsed.auth.as_str()),
            (p256dh.as_str(), auth.as_str())
        );
        // Padded standard base64 is normalised.
        let std = base64::engine::general_purpose::STANDARD.encode([9u8; 16]);
        let padded =
            json!({"endpoint": "https://push.example/a", "keys": {"p256dh": p256dh, "auth": std}});
        assert_eq!(parse(&padded, false).unwrap().auth, auth);

        let with = |path: &[&str], v: Value| {
            let mut x = good.clone();
            let mut at = &mut x;
            for p in &path[..path.len() - 1] {
                at = &mut at[*p];
            }
            at[path[path.len() - 1]] = v;
            field_of(parse(&x, false).unwrap_err())
        };
        assert_eq!(
            field_of(parse(&Value::Null, false).unwrap_err()),
            "subscription"
        );
        assert_eq!(
            field_of(parse(&json!([]), false).unwrap_err()),
            "subscription"
        );
        assert_eq!(
            with(&["endpoint"], json!("http://push.example/x")),
            "subscription.endpoint"
        );
        assert_eq!(
            with(&["endpoint"], json!("not a url")),
            "subscription.endpoint"
        );
        assert_eq!(
            with(&["endpoint"], json!("https://u:p@push.example/x")),
            "subscription.endpoint"
        );
        assert_eq!(with(&["endpoint"], json!(5)), "subscription.endpoint");
        assert_eq!(with(&["keys"], json!(null)), "subscription.keys");
        assert_eq!(
            with(&["keys", "p256dh"], json!("AAAA")),
            "subscription.keys.p256dh"
        );
        assert_eq!(
            with(&["keys", "p256dh"], json!(encode(&[4; 65]))),
            "subscription.keys.p256dh"
        );
        assert_eq!(
            with(&["keys", "auth"], json!(encode(&[1; 15]))),
            "subscription.keys.auth"
        );
        assert_eq!(
            with(&["keys", "auth"], json!(null)),
            "subscription.keys.auth"
        );

        let http =
            json!({"endpoint": "http://127.0.0.1:9/x", "keys": {"p256dh": p256dh, "auth": auth}});
        assert!(parse(&http, false).is_err());
        assert!(parse(&http, true).is_ok());
    }
}
