//! Routes. Modules under `api/` mirror these paths; the project routes
//! (`/projects/{id}/…`) come from the access table in `project_routes.rs`,
//! which states each one's minimum role.

pub mod project_routes;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::api::accounts::{auth, setup, tokens};
use crate::api::campaigns::{tracking as campaign_links, unsubscribe};
use crate::api::tracking::{chat, collect};
use crate::api::{projects, push, support, webhooks};
use crate::assets;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let mut api = Router::new()
        .route(
            "/collect",
            post(collect::collect).options(collect::preflight),
        )
        // The chat widget (`/vibe-chat.js`): write key, then a visitor token.
        .route("/chat/config", get(chat::config).options(chat::preflight))
        .route(
            "/chat/session",
            post(chat::session).options(chat::preflight),
        )
        .route(
            "/chat/messages",
            get(chat::messages)
                .post(chat::send)
                .options(chat::preflight),
        )
        .route("/chat/read", post(chat::read).options(chat::preflight))
        // Web push (`vibePush.subscribe()` in vibe.js): write key.
        .route("/push/key", get(push::key).options(push::preflight))
        .route(
            "/push/subscribe",
            post(push::subscribe).options(push::preflight),
        )
        .route(
            "/push/unsubscribe",
            post(push::unsubscribe).options(push::preflight),
        )
        .route("/track", post(collect::track))
        .route("/identify", post(collect::identify))
        // The support API: a helpdesk or bot, with the project's secret key.
        .route("/support/conversations", post(support::conversations))
        .route("/support/messages", post(support::messages))
        .route("/support/events", post(support::events))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/me", get(auth::me))
        .route("/setup", post(setup::setup))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{token_id}", delete(tokens::revoke))
        .route("/projects", get(projects::list).post(projects::create))
        // Channel webhooks: the provider calls them, authenticated by signature.
        .route(
            "/webhooks/whatsapp/{project_id}",
            get(webhooks::whatsapp::handshake).post(webhooks::whatsapp::receive),
        )
        .route(
            "/webhooks/twilio/{project_id}",
            post(webhooks::twilio::receive),
        )
        .route(
            "/webhooks/email/{project_id}",
            post(webhooks::email::receive),
        )
        .fallback(api_not_found);
    for route in project_routes::project_routes() {
        api = api.route(&route.nested_path(), route.into_router());
    }
    // Cookie-authenticated writes must come from the dashboard's own origin (CSRF).
    let api = api.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::csrf::guard,
    ));
    Router::new()
        .nest("/api/v1", api)
        .route("/vibe.js", get(assets::vibe_js))
        .route("/vibe-chat.js", get(assets::vibe_chat_js))
        .route("/vibe-sw.js", get(assets::vibe_sw_js))
        // A campaign email's links: public, keyed by the recipient's token.
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::form).post(unsubscribe::confirm),
        )
        .route("/o/{file}", get(campaign_links::pixel))
        .route("/r/{token}/{n}", get(campaign_links::click))
        .route("/setup", get(setup::setup_page))
        .route("/setup.js", get(setup::setup_script))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(crate::web::serve)
        .layer(axum::middleware::from_fn(crate::security_headers::add))
        .with_state(state)
}

async fn api_not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("endpoint")
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// The database answers and the ingest writer is running.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let writer = if state.ingest.writer_up() {
        "up"
    } else {
        "down"
    };
    match state.store.ping().await {
        Ok(()) if writer == "down" => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unavailable", "backend": state.store.backend(), "writer": writer}),
            ),
        ),
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ready",
                "backend": state.store.backend(),
                "writer": writer,
                "scheduler": if state.live.is_leader() { "leader" } else { "standby" },
            })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    json!({"status": "unavailable", "backend": state.store.backend(), "writer": writer}),
                ),
            )
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
