//! The one error type handlers return. Client errors carry a stable `code`, a
//! human message and, where it applies, the offending `field`; server errors are
//! logged with their cause chain and answered without internals.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use vibe_core::FieldError;
use vibe_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// Temporarily unable to take the request; the client should retry.
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: String,
        retry_after_s: u32,
    },
    /// Too many attempts (sign-in, setup); retry after `retry_after_s`.
    #[error("{message}")]
    RateLimited { message: String, retry_after_s: u64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Client {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn field(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Client {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// 400 `invalid_field`: the value at `field` (a JSON path) is wrong.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::field("invalid_field", field, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::client(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::client(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, "conflict", message)
    }

    /// 422: the data was valid at the edge but the database refused it, so
    /// sending it again will not help.
    pub fn rejected_by_storage(message: impl Into<String>) -> Self {
        Self::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected_by_storage",
            message,
        )
    }

    pub fn with_status(self, new_status: StatusCode) -> Self {
        match self {
            Self::Client {
                code,
                message,
                field,
                ..
            } => Self::Client {
                status: new_status,
                code,
                message,
                field,
            },
            other => other,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let status = if e.code == "too_large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        Self::Client {
            status,
            code: e.code,
            message: e.message,
            field: Some(e.field),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("resource"),
            // The database's text names constraints and columns: log it, never send it.
            StoreError::Conflict(cause) => {
                tracing::info!(%cause, "store conflict");
                Self::conflict("this conflicts with something that already exists")
            }
            StoreError::Rejected(cause) => {
                tracing::warn!(%cause, "store refused the data");
                Self::rejected_by_storage("the database refused this data")
            }
            StoreError::Other(e) => Self::Internal(anyhow::Error::from_boxed(e)),
        }
    }
}

impl From<crate::secrets::HashError> for ApiError {
    fn from(e: crate::secrets::HashError) -> Self {
        match e {
            crate::secrets::HashError::Busy => Self::Unavailable {
                code: "busy",
                message: "too many sign-ins at once; retry shortly".into(),
                retry_after_s: 1,
            },
            e => Self::Internal(e.into()),
        }
    }
}

impl ApiError {
    /// The `error` object of the answer — `{code, message, field?}` — as HTTP
    /// sends it and the live socket repeats it (`live::support_subscription`).
    /// An internal error's cause is never in it.
    pub fn body(&self) -> Value {
        match self {
            Self::Client {
                code,
                message,
                field,
                ..
            } => {
                let mut body = json!({"code": code, "message": message});
                if let Some(f) = field {
                    body["field"] = json!(f);
                }
                body
            }
            Self::Unavailable { code, message, .. } => json!({"code": code, "message": message}),
            Self::RateLimited { message, .. } => {
                json!({"code": "too_many_attempts", "message": message})
            }
            Self::Internal(_) => json!({"code": "internal", "message": "internal server error"}),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.body() }));
        match self {
            Self::Client { status, .. } => (status, body).into_response(),
            Self::Unavailable { retry_after_s, .. } => {
                let mut res = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
                res
            }
            Self::RateLimited { retry_after_s, .. } => {
                let mut res = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
                res
            }
            Self::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, body).into_response()
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A lookup that found nothing is the API's 404 for `what`.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> ApiResult<T>;
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &str) -> ApiResult<T> {
        self.ok_or_else(|| ApiError::not_found(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conflicts_do_not_reveal_the_schema() {
        let e = ApiError::from(StoreError::Conflict(
            "UNIQUE constraint failed: accounts.email".into(),
        ));
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("\"conflict\""), "{text}");
        assert!(
            !text.contains("accounts") && !text.contains("UNIQUE"),
            "{text}"
        );
    }
}
