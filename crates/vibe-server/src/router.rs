//! Routes. Modules under `api/` mirror these paths.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde_json::json;

use crate::api::{
    auth, collect, events, export, funnels, identity, live, members, online, projects, stats,
    tokens, users,
};
use crate::assets;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route(
            "/collect",
            post(collect::collect).options(collect::preflight),
        )
        .route("/track", post(collect::track))
        .route("/identify", post(collect::identify))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/me", get(auth::me))
        .route("/setup", post(auth::setup))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{token_id}", delete(tokens::revoke))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{id}", get(projects::get).patch(projects::update))
        .route("/projects/{id}/snippet", get(projects::snippet))
        .route(
            "/projects/{id}/identity-secret",
            get(identity::secret).post(identity::rotate),
        )
        .route(
            "/projects/{id}/keys",
            get(projects::list_keys).post(projects::create_key),
        )
        .route("/projects/{id}/keys/{key_id}", delete(projects::revoke_key))
        .route(
            "/projects/{id}/members",
            get(members::list).post(members::add),
        )
        .route(
            "/projects/{id}/members/{account_id}",
            patch(members::update).delete(members::remove),
        )
        .route("/projects/{id}/online", get(online::online))
        .route("/projects/{id}/live", get(live::live))
        .route("/projects/{id}/events", get(events::recent))
        .route("/projects/{id}/metrics", get(stats::metrics))
        .route("/projects/{id}/stats/daily", get(stats::daily))
        .route(
            "/projects/{id}/funnels",
            get(funnels::list).post(funnels::create),
        )
        .route(
            "/projects/{id}/funnels/{fid}",
            get(funnels::get)
                .put(funnels::update)
                .delete(funnels::delete),
        )
        .route(
            "/projects/{id}/funnels/{fid}/conversion",
            get(funnels::conversion_of),
        )
        .route("/projects/{id}/users", get(users::list))
        .route("/projects/{id}/users/{uid}", get(users::profile))
        .route("/projects/{id}/users/{uid}/sessions", get(users::sessions))
        .route("/projects/{id}/export/users.csv", get(export::users_csv))
        .route(
            "/projects/{id}/export/metrics.csv",
            get(export::metrics_csv),
        )
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::guard,
        ));
    Router::new()
        .nest("/api/v1", api)
        .route("/vibe.js", get(assets::vibe_js))
        .route("/setup", get(auth::setup_page))
        .route("/setup.js", get(auth::setup_script))
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

/// The database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ready",
                "backend": state.store.backend(),
                "scheduler": if state.live.is_leader() { "leader" } else { "standby" },
            })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "backend": state.store.backend()})),
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
