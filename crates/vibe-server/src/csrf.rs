//! Cross-site request forgery. A browser attaches the session cookie to
//! requests other sites make it send, so every state-changing `/api/v1`
//! request that is not token-authenticated must
//! - carry its body as `application/json` (a plain HTML form can only send
//!   `text/plain`, urlencoded or multipart, and a cross-origin `fetch` with
//!   JSON needs a CORS preflight this API never grants), and
//! - come from the dashboard's own origin: `Origin` (or, without it,
//!   `Sec-Fetch-Site: same-origin`) must match `public_url`, or the `Host` the
//!   request was sent to when no `public_url` is set. With a session cookie one
//!   of the two is required; without one (sign-in, setup) a cross-origin one is
//!   still refused, which stops login CSRF.
//!
//! The collector (`/collect`, a public write key, `text/plain` by design) and
//! the server-side ingestion routes (`/track`, `/identify`, secret keys) are
//! not cookie-authenticated and are left alone, as are the channel webhooks
//! (`/webhooks/…`: signed by the provider, form-encoded for Twilio), as is any request with an
//! `Authorization` header (scripts with `vbt_…` tokens; browsers cannot add
//! that header cross-origin without a preflight). The live feed's WebSocket
//! upgrade is a GET and calls [`check_origin`] itself.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::cookie_value;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Paths under `/api/v1` that are not cookie-authenticated.
const EXEMPT: &[&str] = &[
    "/collect",
    "/track",
    "/identify",
    // The chat widget's: a write key, then a visitor token (never a cookie).
    "/chat/session",
    "/chat/messages",
    "/chat/read",
    // Web push's (`vibePush`): a write key, never a cookie.
    "/push/subscribe",
    "/push/unsubscribe",
];

/// Middleware for the `/api/v1` router.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if unsafe_method
        && !EXEMPT.contains(&path)
        && !path.starts_with("/webhooks/")
        && !req.headers().contains_key(header::AUTHORIZATION)
    {
        let headers = req.headers();
        let has_cookie = cookie_value(headers, state.config.session_cookie()).is_some();
        if let Err(e) = check_origin(&state, headers, has_cookie).and_then(|()| json_body(headers))
        {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// A body must be declared `application/json`; a request without a body (a
/// DELETE, sign-out) may leave the content type out.
fn json_body(headers: &HeaderMap) -> ApiResult<()> {
    let media_type = media_type(headers);
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    match media_type.as_deref() {
        Some("application/json") => Ok(()),
        None if !has_body => Ok(()),
        _ => Err(ApiError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        )),
    }
}

/// The `Content-Type` without its parameters, lowercased (`None` when absent).
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    headers.get(header::CONTENT_TYPE).map(|v| {
        v.to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

/// `Ok` when the request comes from the dashboard's own origin. Without
/// `Origin` and `Sec-Fetch-Site` (not a browser, or a very old one) it passes
/// only when `required` is false.
pub fn check_origin(state: &AppState, headers: &HeaderMap, required: bool) -> ApiResult<()> {
    let refused = || {
        ApiError::client(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "this request must come from the Vibe dashboard's own origin",
        )
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refused())?;
        return if is_own_origin(state, headers, origin) {
            Ok(())
        } else {
            Err(refused())
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") => Ok(()),
        Some(_) => Err(refused()),
        None if required => Err(refused()),
        None => Ok(()),
    }
}

fn is_own_origin(state: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    let origin = normalise(origin);
    match &state.config.public_url {
        Some(public) => origin == normalise(public),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|h| h.trim().to_ascii_lowercase());
            // Only the authority is compared: behind a TLS-terminating proxy
            // the server cannot tell the scheme (set `public_url` there).
            origin
                .split_once("://")
                .is_some_and(|(_, authority)| Some(authority) == host.as_deref())
        }
    }
}

/// `scheme://host[:port]`, lowercase, without a default port or path.
fn normalise(url: &str) -> String {
    let url = url.trim().to_ascii_lowercase();
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = match (scheme, authority.rsplit_once(':')) {
        ("https", Some((host, "443"))) | ("http", Some((host, "80"))) => host,
        _ => authority,
    };
    format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_without_paths_or_default_ports() {
        assert_eq!(
            normalise("https://Vibe.example.com:443/dash/"),
            "https://vibe.example.com"
        );
        assert_eq!(normalise("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_ne!(
            normalise("http://vibe.example.com"),
            normalise("https://vibe.example.com")
        );
        assert_eq!(normalise("null"), "null");
    }
}
