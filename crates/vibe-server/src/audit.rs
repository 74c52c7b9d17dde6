//! The audit recorder: the one function every audited handler calls,
//! [`record`], after its change is stored. It writes one `audit_log` row
//! (`vibe_store::audit`) naming the caller, the action, the resource, the
//! request's parameters with secrets redacted, and the client address
//! (`client_ip`, so trusted proxies are honoured).
//!
//! Failure policy: the row is written in the request, after the change, and
//! a failed write answers 500. The change itself is already committed then
//! (they are separate store calls), but the caller learns that it went
//! unrecorded instead of being told all is well; an unaudited success is the
//! one outcome an audit log must not hide. Reads that are audited (the
//! support reports) follow the same rule.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use vibe_store::audit::AuditEntry;

use crate::api::{json_value, typed_body};
use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What replaces a secret's value in `params`.
pub const REDACTED: &str = "[redacted]";

/// Key fragments (lower-case) whose values never reach the log, at any depth.
const SECRET_KEYS: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "credential",
    "private_key",
];

/// Appends one row to the project's audit log as `access`'s account.
/// `resource` names what was acted on (`project`, `member/{account_id}`, …);
/// `params` is what the request asked (redacted here, so callers may pass the
/// body as it came).
pub async fn record(
    state: &AppState,
    access: &ProjectAccess,
    action: &str,
    resource: &str,
    params: Value,
    ip: IpAddr,
) -> ApiResult<()> {
    let entry = AuditEntry {
        id: uuid::Uuid::new_v4().to_string(),
        actor_account_id: access.account.id.clone(),
        actor_email: access.account.email.clone(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        params: redact(params).to_string(),
        ip: (!ip.is_unspecified()).then(|| ip.to_string()),
        at: state.clock.now_ms(),
    };
    state
        .store
        .record_audit(&access.project.id, &entry)
        .await
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "audit log write failed for {action} on {resource}: {e}"
            ))
        })
}

/// `params` with the value of every secret-looking key replaced by
/// [`REDACTED`] (objects at any depth, inside arrays too).
pub fn redact(params: Value) -> Value {
    match params {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SECRET_KEYS.iter().any(|s| lower.contains(s)) {
                        (k, Value::String(REDACTED.into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

/// A JSON body as the handler's type and as the JSON it came as: the typed
/// value does the work, the raw one becomes the audit row's `params`. Errors
/// are `ApiJson`'s.
pub struct AuditedJson<T>(pub T, pub Value);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AuditedJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::client(e.status(), "invalid_body", e.body_text()))?;
        let value = json_value(&bytes)?;
        let typed = typed_body(value.clone())?;
        Ok(Self(typed, value))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let params = json!({
            "name": "Shop",
            "password": "hunter2",
            "config": {"smtp_host": "mx", "SMTP_Password": "p", "app_secret": "s"},
            "list": [{"auth_token": "t", "from": "+1"}],
            "api_key": 42,
        });
        assert_eq!(
            redact(params),
            json!({
                "name": "Shop",
                "password": REDACTED,
                "config": {"smtp_host": "mx", "SMTP_Password": REDACTED, "app_secret": REDACTED},
                "list": [{"auth_token": REDACTED, "from": "+1"}],
                "api_key": REDACTED,
            })
        );
    }

    #[test]
    fn values_that_only_look_secret_stay() {
        // Only keys decide: a value mentioning "token" is data.
        let params = json!({"body": "my token is", "n": 1, "ok": true});
        assert_eq!(redact(params.clone()), params);
    }
}
