//! `GET /api/v1/projects/{id}/snippet`: the tracking tag for the project's pages.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::ProjectAccess;
use crate::state::AppState;

/// The tag to paste into a page's `<head>`: a tiny queue stub so calls made
/// before the script loads are kept, then the deferred script itself.
pub async fn snippet(
    State(state): State<AppState>,
    headers: HeaderMap,
    access: ProjectAccess,
) -> Json<Value> {
    let base = public_base_url(&state, &headers);
    let snippet = format!(
        "<script>window.vibeQ=window.vibeQ||[];window.vibeTrack=window.vibeTrack||function(){{vibeQ.push([\"track\",arguments])}};window.vibeIdentify=window.vibeIdentify||function(){{vibeQ.push([\"identify\",arguments])}};</script>\n<script defer src=\"{base}/vibe.js\" data-key=\"{}\"></script>",
        access.project.write_key
    );
    Json(
        json!({ "snippet": snippet, "script_url": format!("{base}/vibe.js"), "write_key": access.project.write_key }),
    )
}

/// `public_url` from config, else the scheme and host this request came in on.
pub fn public_base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"', '<']))
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}
