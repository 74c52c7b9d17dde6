//! `POST …/campaigns/{campaign_id}/test {addresses, contact_id?}`: the
//! campaign's email rendered (for `contact_id`, a person of this project,
//! or else a sample contact whose email is the address) and sent at once
//! to each of `addresses` (at most [`MAX_TEST_ADDRESSES`]) over the
//! project's email channel — nothing else: no recipient rows, no events,
//! no change to the campaign, in any state. The unsubscribe link is a
//! placeholder (`…/unsubscribe/test`). The answer gives each address's
//! outcome.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};

use super::{audit_change, find};
use crate::api::inbox::fields;
use crate::api::templates::preview::contact_of;
use crate::api::ApiJson;
use crate::auth::ProjectAccess;
use crate::campaigns::message::{campaign_data, campaign_draft, prepare};
use crate::campaigns::sender::email_session;
use crate::campaigns::smtp::Delivery;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const MAX_TEST_ADDRESSES: usize = 10;
const FIELDS: &str = "addresses, contact_id";

fn invalid(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::field("invalid_field", field, msg)
}

fn addresses(v: &Value) -> ApiResult<Vec<String>> {
    let list = v
        .as_array()
        .ok_or_else(|| invalid("addresses", "must be a list of email addresses"))?;
    if list.is_empty() || list.len() > MAX_TEST_ADDRESSES {
        return Err(invalid(
            "addresses",
            format!("must hold 1 to {MAX_TEST_ADDRESSES} addresses"),
        ));
    }
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = format!("addresses[{i}]");
        let s = fields::text(&field, a, fields::MAX_SHORT_CHARS)?;
        if s.parse::<lettre::Address>().is_err() {
            return Err(invalid(&field, "is not an email address"));
        }
        out.push(s);
    }
    Ok(out)
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Client {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message: message.into(),
        field: None,
    }
}

pub async fn send_test(
    State(state): State<AppState>,
    access: ProjectAccess,
    ClientIp(ip): ClientIp,
    Path((_, campaign_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let c = find(&state, &access, &campaign_id).await?;
    let (mut to, mut contact_id) = (None, None);
    for (key, v) in &body {
        match key.as_str() {
            "addresses" => to = Some(addresses(v)?),
            "contact_id" => contact_id = fields::opt_text(key, v, fields::MAX_SHORT_CHARS)?,
            _ => return Err(fields::unknown(key, FIELDS)),
        }
    }
    let to = to.ok_or_else(|| {
        ApiError::field(
            "missing_field",
            "addresses",
            "the addresses to send the test to",
        )
    })?;
    let person = match &contact_id {
        Some(id) => Some(
            state
                .store
                .find_user(&access.project.id, id)
                .await?
                .ok_or_else(|| {
                    ApiError::field("not_found", "contact_id", "no such person in this project")
                        .with_status(StatusCode::NOT_FOUND)
                })?,
        ),
        None => None,
    };
    if c.channel != "email" {
        return Err(unprocessable(
            "channel_not_supported",
            format!("{} campaigns cannot be sent yet; only email", c.channel),
        ));
    }
    let draft = campaign_draft(&state, &access.project.id, &c)
        .await
        .map_err(|why| unprocessable("invalid_content", why))?;
    let mut session = email_session(&state, &access.project.id)
        .await
        .map_err(|why| unprocessable("channel_not_configured", why))?;
    let data = campaign_data(&c);
    let mut results = Vec::new();
    for address in &to {
        let contact = match &person {
            Some(p) => contact_of(p),
            None => json!({"id": "test", "user_id": null, "name": null, "email": address,
                "traits": {"email": address}}),
        };
        let built = prepare(
            &state,
            session.config(),
            &draft,
            (contact, &data),
            address,
            "test",
        )
        .and_then(|e| e.to_message());
        let (status, error) = match built {
            Err(why) => ("failed", Some(why)),
            Ok(message) => match session.send(&message).await {
                Delivery::Sent => ("sent", None),
                Delivery::Unknown(e) => ("unknown", Some(e)),
                Delivery::HardBounce(e)
                | Delivery::Rejected(e)
                | Delivery::Retry(e)
                | Delivery::Setup(e) => ("failed", Some(e)),
            },
        };
        results.push(json!({"address": address, "status": status, "error": error}));
    }
    session.close().await;
    audit_change(&state, &access, "campaign.test", &c, ip).await?;
    Ok(Json(json!({ "results": results })))
}
