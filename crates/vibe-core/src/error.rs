use serde::Serialize;

/// A validation failure that names the offending field, so the API can answer
/// `{"error": {"code", "message", "field"}}` without guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub code: &'static str,
    pub message: String,
    pub field: String,
}

impl FieldError {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: field.into(),
        }
    }

    pub fn missing(field: impl Into<String>) -> Self {
        let field = field.into();
        let message = format!("`{field}` is required");
        Self::new("missing_field", field, message)
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new("invalid_field", field, message)
    }

    pub fn too_large(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new("too_large", field, message)
    }
}
