//! The channels domain (`vibe_store::channels`): `GET /projects/{id}/channels`
//! and `GET|PUT /channels/{kind}` configure the Inbox's channels (`in_app`,
//! `email`, `whatsapp`, `twilio`; bodies in `settings.rs`). Secrets are
//! sealed before they are stored (`vault.rs`) and shown back only as a hint;
//! each answer carries the channel's inbound `webhook_url` (`api/webhooks/`).

pub mod routes;
pub mod settings;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use vibe_store::channels::ChannelSettings;

use crate::api::projects::snippet::public_base_url;
use crate::audit;
use crate::auth::ProjectAccess;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use settings::{Kind, Secrets};

/// A stored channel with its secrets opened: what the webhooks verify with.
pub struct Channel {
    pub settings: ChannelSettings,
    pub config: Value,
    pub secrets: Secrets,
}

/// The project's channel of `kind` with its secrets opened; `None` when not
/// configured. A sealed value that no longer opens (another key) is an error.
pub async fn load(state: &AppState, project_id: &str, kind: Kind) -> ApiResult<Option<Channel>> {
    let Some(settings) = state.store.get_channel(project_id, kind.as_str()).await? else {
        return Ok(None);
    };
    let config = serde_json::from_str(&settings.config)
        .map_err(|e| anyhow::anyhow!("stored channel config is not JSON: {e}"))?;
    let secrets = open_secrets(state, project_id, kind, &settings)
        .map_err(|e| anyhow::anyhow!("channel {} of {project_id}: {e}", kind.as_str()))?;
    Ok(Some(Channel {
        settings,
        config,
        secrets,
    }))
}

fn open_secrets(
    state: &AppState,
    project_id: &str,
    kind: Kind,
    settings: &ChannelSettings,
) -> anyhow::Result<Secrets> {
    let Some(sealed) = &settings.secrets else {
        return Ok(Secrets::new());
    };
    let text = state
        .vault
        .open_text(&kind.seal_owner(project_id), sealed)?;
    Ok(serde_json::from_str(&text)?)
}

/// Where the provider must send this channel's inbound traffic (the public
/// base URL: `public_url`, else this request's scheme and host).
pub fn webhook_url(base: &str, project_id: &str, kind: Kind) -> Option<String> {
    match kind {
        Kind::Whatsapp | Kind::Twilio | Kind::Email => Some(format!(
            "{base}/api/v1/webhooks/{}/{project_id}",
            kind.as_str()
        )),
        // The widget talks to the collector origin.
        Kind::InApp => None,
    }
}

fn answer(
    state: &AppState,
    headers: &HeaderMap,
    project_id: &str,
    kind: Kind,
    stored: Option<&ChannelSettings>,
) -> Value {
    let base = public_base_url(state, headers);
    let webhook_url = webhook_url(&base, project_id, kind);
    let Some(s) = stored else {
        return json!({"kind": kind.as_str(), "configured": false, "enabled": false,
            "config": null, "secrets": settings::secret_hints(kind, Some(&Secrets::new())),
            "webhook_url": webhook_url, "updated_at": null});
    };
    let secrets = open_secrets(state, project_id, kind, s)
        .map_err(|e| tracing::warn!(project = %project_id, kind = kind.as_str(), error = %e, "channel secrets do not open"))
        .ok();
    let config: Value = serde_json::from_str(&s.config).unwrap_or(Value::Null);
    json!({"kind": kind.as_str(), "configured": true, "enabled": s.enabled, "config": config,
        "secrets": settings::secret_hints(kind, secrets.as_ref()),
        "webhook_url": webhook_url, "updated_at": s.updated_at})
}

/// `GET /channels`: every kind, configured or not.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    access: ProjectAccess,
) -> ApiResult<Json<Value>> {
    let pid = &access.project.id;
    let stored = state.store.list_channels(pid).await?;
    let channels: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            let s = stored.iter().find(|s| s.kind == k.as_str());
            answer(&state, &headers, pid, *k, s)
        })
        .collect();
    Ok(Json(json!({ "channels": channels })))
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    access: ProjectAccess,
    Path((_, kind)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let kind = Kind::parse(&kind)?;
    let pid = &access.project.id;
    let stored = state.store.get_channel(pid, kind.as_str()).await?;
    Ok(Json(answer(&state, &headers, pid, kind, stored.as_ref())))
}

/// `PUT /channels/{kind}`: the whole public config; secrets left out are kept.
pub async fn put(
    State(state): State<AppState>,
    headers: HeaderMap,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, kind)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let kind = Kind::parse(&kind)?;
    let pid = &access.project.id;
    let v = settings::validate(kind, &body)?;
    let stored = state.store.get_channel(pid, kind.as_str()).await?;
    let kept = match &stored {
        Some(s) => match open_secrets(&state, pid, kind, s) {
            Ok(kept) => kept,
            // Sealed under another key: only a body restating every secret
            // can replace them.
            Err(e) if v.given.len() < kind.secret_fields().len() => {
                tracing::warn!(project = %pid, kind = kind.as_str(), error = %e, "stored channel secrets do not open");
                return Err(ApiError::client(
                    StatusCode::CONFLICT,
                    "secrets_unreadable",
                    "the stored secrets were sealed with another VIBE_SECRET_KEY; send every secret again",
                ));
            }
            Err(_) => Secrets::new(),
        },
        None => Secrets::new(),
    };
    // Which secrets this request set, by name only (never their values).
    let rotated: Vec<String> = v.given.keys().cloned().collect();
    let config = v.config.clone();
    let secrets = settings::merge(kind, kept, v.given)?;
    let sealed = (!secrets.is_empty()).then(|| {
        let text = serde_json::to_string(&secrets).expect("a string map serialises");
        state.vault.seal_text(&kind.seal_owner(pid), &text)
    });
    let row = ChannelSettings {
        kind: kind.as_str().to_owned(),
        config: v.config.to_string(),
        secrets: sealed,
        enabled: v.enabled,
        updated_at: state.clock.now_ms(),
    };
    state.store.put_channel(pid, &row).await?;
    tracing::info!(project = %pid, kind = kind.as_str(), by = %access.account.id, "channel settings saved");
    let params = json!({"enabled": row.enabled, "config": config, "rotated_fields": rotated});
    audit::record(
        &state,
        &access,
        "channel.update",
        &format!("channel/{}", kind.as_str()),
        params,
        ip,
    )
    .await?;
    Ok(Json(answer(&state, &headers, pid, kind, Some(&row))))
}
