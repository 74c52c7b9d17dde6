//! `GET /api/v1/projects/{id}/snippet`: the tracking tag for the project's
//! pages, and the chat widget's tag when the in-app channel is enabled.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::ProjectAccess;
use crate::error::ApiResult;
use crate::state::AppState;

/// The tag to paste into a page's `<head>`: a tiny queue stub so calls made
/// before the script loads are kept, then the deferred script itself.
pub async fn snippet(
    State(state): State<AppState>,
    headers: HeaderMap,
    access: ProjectAccess,
) -> ApiResult<Json<Value>> {
    let base = public_base_url(&state, &headers);
    let mut snippet = format!(
        "<script>window.vibeQ=window.vibeQ||[];window.vibeTrack=window.vibeTrack||function(){{vibeQ.push([\"track\",arguments])}};window.vibeIdentify=window.vibeIdentify||function(){{vibeQ.push([\"identify\",arguments])}};</script>\n<script defer src=\"{base}/vibe.js\" data-key=\"{}\"></script>",
        access.project.write_key
    );
    // The chat widget's tag, only while the in-app channel is enabled: sites
    // without it never load a byte of it.
    let chat = state
        .store
        .get_channel(&access.project.id, "in_app")
        .await?
        .is_some_and(|c| c.enabled);
    if chat {
        snippet.push_str(&format!(
            "\n<script defer src=\"{base}/vibe-chat.js\" data-key=\"{}\"></script>",
            access.project.write_key
        ));
    }
    Ok(Json(json!({
        "snippet": snippet,
        "script_url": format!("{base}/vibe.js"),
        "write_key": access.project.write_key,
        "chat": chat,
        "chat_script_url": format!("{base}/vibe-chat.js"),
    })))
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
