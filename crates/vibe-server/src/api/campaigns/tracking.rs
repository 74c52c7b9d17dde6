//! The public links of a campaign email (no sign-in; the recipient's token
//! is the only key; docs/campaigns.md, "Tracking"):
//!
//! - `GET /o/{token}.gif` — the open pixel: records `opened` (marked
//!   machine when it came within [`MACHINE_WINDOW_MS`] of the send or from
//!   a known mail proxy) and always answers the GIF, uncached, whatever
//!   the token, so a pixel never shows as broken.
//! - `GET /r/{token}/{n}?u=&s=` — a click: only a URL signed for that
//!   token and index (`campaigns/links.rs`) is followed, with `clicked`
//!   recorded; anything else is 404, never a redirect.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::campaigns::links;
use crate::state::AppState;

/// A 1×1 transparent GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// An open this soon after the send is a scanner or a prefetch, not a
/// person reading.
pub const MACHINE_WINDOW_MS: i64 = 5_000;

/// User agents of proxies that fetch every image of a message, read or
/// not (Gmail's image proxy, Yahoo's, Apple Mail Privacy Protection's
/// prefetch, security scanners).
const PROXY_AGENTS: [&str; 6] = [
    "googleimageproxy",
    "yahoomailproxy",
    "apple mail privacy",
    "mimecast",
    "barracuda",
    "proofpoint",
];

fn is_machine(headers: &HeaderMap, sent_at: Option<i64>, now: i64) -> bool {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let proxy = PROXY_AGENTS.iter().any(|p| agent.contains(p));
    let early = sent_at.is_some_and(|s| now - s < MACHINE_WINDOW_MS);
    proxy || early
}

pub async fn pixel(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = file.strip_suffix(".gif") {
        let now = state.clock.now_ms();
        match state.store.recipient_by_token(token).await {
            Ok(Some(r)) => {
                let machine = is_machine(&headers, r.sent_at, now);
                if let Err(e) = state.store.record_open(token, now, machine).await {
                    tracing::warn!(error = %e, "recording a campaign open failed");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "reading a campaign token failed"),
        }
    }
    (
        [
            (header::CONTENT_TYPE, "image/gif"),
            (header::CACHE_CONTROL, "no-store, max-age=0"),
        ],
        PIXEL,
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "This link is not valid.",
    )
        .into_response()
}

pub async fn click(
    State(state): State<AppState>,
    Path((token, n)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Ok(n), Some(url), Some(sig)) = (n.parse::<usize>(), q.get("u"), q.get("s")) else {
        return not_found();
    };
    if !links::verify(&state, &token, n, url, sig) {
        return not_found();
    }
    match state
        .store
        .record_click(&token, url, state.clock.now_ms())
        .await
    {
        Ok(Some(_)) => {}
        // A signed link of no recipient (deleted campaign, …): nothing to
        // follow for it.
        Ok(None) => return not_found(),
        Err(e) => {
            // The person still gets where they clicked.
            tracing::warn!(error = %e, "recording a campaign click failed");
        }
    }
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, url.as_str()),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}
