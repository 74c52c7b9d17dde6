//! `/unsubscribe/{token}`: the link in every campaign email's body and
//! `List-Unsubscribe` header (docs/campaigns.md, "Unsubscribe"). Public:
//! the token (unguessable, one per recipient) is the only key. Plain HTML,
//! no script, no sign-in:
//!
//! - `GET` shows a form with one button (nothing changes on a GET, so a
//!   link scanner following it unsubscribes nobody);
//! - `POST` unsubscribes — the button's form and the RFC 8058 one-click
//!   `List-Unsubscribe=One-Click` a mail client sends without cookies
//!   alike — and answers "you are unsubscribed". Repeating it is harmless.
//!
//! An unknown token is a 404 page.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n<body style=\"font-family:sans-serif;max-width:32em;\
         margin:4em auto;padding:0 1em\">\n<h1>{title}</h1>\n{body}\n</body></html>\n"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn unknown() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not found",
        "<p>This unsubscribe link is not valid.</p>",
    )
}

fn failed() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "<p>We could not record your request just now. Please try again in a moment.</p>",
    )
}

pub async fn form(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.recipient_by_token(&token).await {
        Ok(Some(r)) => {
            let address = r.address.as_deref().unwrap_or("your address");
            let body = format!(
                "<p>Stop receiving these emails at <strong>{}</strong>?</p>\n\
                 <form method=\"post\" action=\"/unsubscribe/{}\">\
                 <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
                 <button type=\"submit\">Unsubscribe</button></form>",
                escape(address),
                escape(&token)
            );
            page(StatusCode::OK, "Unsubscribe", &body)
        }
        Ok(None) => unknown(),
        Err(e) => {
            tracing::warn!(error = %e, "reading an unsubscribe token failed");
            failed()
        }
    }
}

/// The body is not checked: the one-click body and the form's are the
/// same, and either way the person asked to leave.
pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state
        .store
        .unsubscribe_by_token(&token, state.clock.now_ms())
        .await
    {
        Ok(Some(_)) => page(
            StatusCode::OK,
            "You are unsubscribed",
            "<p>You will not receive these emails any more.</p>",
        ),
        Ok(None) => unknown(),
        Err(e) => {
            tracing::warn!(error = %e, "recording an unsubscribe failed");
            failed()
        }
    }
}
