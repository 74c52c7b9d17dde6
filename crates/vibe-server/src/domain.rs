//! Newtypes for account and project input, parsed once at the edge.

use crate::error::ApiError;

pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !s.contains(char::is_whitespace);
        if !valid {
            return Err(ApiError::field(
                "invalid_field",
                field,
                "must be an email address",
            ));
        }
        Ok(Self(s))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

pub struct Password(String);

impl Password {
    pub const MIN_LEN: usize = 8;

    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(ApiError::field(
                "invalid_field",
                field,
                format!("must be at least {} characters", Self::MIN_LEN),
            ));
        }
        at_most(field, n, 1024)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A short display name (project, token or key name).
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, ApiError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ApiError::field(
                "missing_field",
                field,
                format!("`{field}` must not be empty"),
            ));
        }
        at_most(field, s.chars().count(), 100)?;
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The one wording of a length limit, so every field says it the same way.
pub fn at_most(field: &str, chars: usize, max: usize) -> Result<(), ApiError> {
    if chars > max {
        return Err(ApiError::field(
            "invalid_field",
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// An origin such as `https://shop.example` or `http://localhost:3000`.
pub fn parse_origin(field: &str, raw: &str) -> Result<String, ApiError> {
    let s = raw.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => {
            Ok(s.to_lowercase())
        }
        _ => Err(ApiError::field(
            "invalid_field",
            field,
            "must be an origin like https://example.com",
        )),
    }
}

/// An IANA time-zone name known to the bundled time-zone database.
pub fn parse_timezone(field: &str, raw: &str) -> Result<String, ApiError> {
    let s = raw.trim();
    match vibe_core::day::ProjectTz::parse(s) {
        Some(_) => Ok(s.to_owned()),
        None => Err(ApiError::field(
            "invalid_field",
            field,
            "must be an IANA time zone such as Europe/Amsterdam",
        )),
    }
}
