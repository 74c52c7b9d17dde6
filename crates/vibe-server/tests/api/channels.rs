//! Channel settings: `PUT/GET /projects/{id}/channels/{kind}` and
//! `GET /channels`. Typed validation naming the field, write-only secrets
//! (hints only, kept when a PUT leaves them out, never plaintext in the
//! database), the inbound `webhook_url`, and who may read or change them.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;
use crate::on_both_backends;

pub const WA_APP_SECRET: &str = "wa-app-secret-0123456789";
pub const WA_VERIFY_TOKEN: &str = "wa-verify-token-abcdef";
pub const WA_ACCESS_TOKEN: &str = "EAAG-access-token-zyxw";
pub const TW_AUTH_TOKEN: &str = "tw-auth-token-9876543210";
pub const TW_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

pub fn whatsapp_body() -> Value {
    json!({"phone_number_id": "106540352242922", "access_token": WA_ACCESS_TOKEN,
        "app_secret": WA_APP_SECRET, "verify_token": WA_VERIFY_TOKEN})
}

pub fn twilio_body() -> Value {
    json!({"account_sid": TW_SID, "auth_token": TW_AUTH_TOKEN, "from": "+15557654321"})
}

fn email_body() -> Value {
    json!({"smtp_host": "smtp.example.com", "smtp_port": 587, "tls": "starttls",
        "username": "help", "password": "smtp-password-secret", "from_address": "help@example.com",
        "from_name": "Help desk"})
}

async fn put_ok(app: &TestApp, who: &Session, pid: &str, kind: &str, body: Value) -> Value {
    let res = app
        .put(
            who,
            &format!("/api/v1/projects/{pid}/channels/{kind}"),
            body,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await
}

async fn settings_are_typed_and_secrets_write_only(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/channels", p.id);

    // Nothing configured: every kind listed, none configured.
    let all = app.get_json(&owner, &base).await;
    let kinds: Vec<&str> = all["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["email", "in_app", "twilio", "whatsapp"]);
    assert!(all["channels"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["configured"] == false));

    let wa = put_ok(&app, &owner, &p.id, "whatsapp", whatsapp_body()).await;
    assert_eq!(wa["configured"], true);
    assert_eq!(wa["enabled"], true);
    assert_eq!(
        wa["config"]["api_base_url"],
        "https://graph.facebook.com/v21.0"
    );
    assert_eq!(
        wa["secrets"]["app_secret"],
        json!({"set": true, "hint": "…6789"})
    );
    assert_eq!(wa["secrets"]["verify_token"]["hint"], "…cdef");
    assert_eq!(
        wa["webhook_url"],
        app.url(&format!("/api/v1/webhooks/whatsapp/{}", p.id))
    );
    let text = wa.to_string();
    for s in [WA_APP_SECRET, WA_VERIFY_TOKEN, WA_ACCESS_TOKEN] {
        assert!(!text.contains(s), "answer shows {s}");
    }

    // A PUT without secrets keeps them; one with a secret replaces only it.
    let kept = put_ok(
        &app,
        &owner,
        &p.id,
        "whatsapp",
        json!({"phone_number_id": "999", "app_secret": "replaced-secret-WXYZ", "enabled": false}),
    )
    .await;
    assert_eq!(kept["config"]["phone_number_id"], "999");
    assert_eq!(kept["enabled"], false);
    assert_eq!(kept["secrets"]["app_secret"]["hint"], "…WXYZ");
    assert_eq!(kept["secrets"]["access_token"]["hint"], "…zyxw");

    // Required secrets on the first PUT; a field named on each refusal.
    let res = app
        .put(
            &owner,
            &format!("{base}/twilio"),
            json!({"account_sid": TW_SID, "from": "+15557654321"}),
        )
        .await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "auth_token").await;
    for (kind, body, field) in [
        (
            "email",
            json!({"smtp_host": "h", "smtp_port": 0, "tls": "tls", "from_address": "a@b.co"}),
            "smtp_port",
        ),
        (
            "email",
            json!({"smtp_host": "h", "smtp_port": 25, "tls": "ssl", "from_address": "a@b.co"}),
            "tls",
        ),
        (
            "email",
            json!({"smtp_host": "h", "smtp_port": 25, "tls": "none", "from_address": "nope"}),
            "from_address",
        ),
        (
            "whatsapp",
            json!({"phone_number_id": "abc"}),
            "phone_number_id",
        ),
        (
            "twilio",
            json!({"account_sid": "AC1", "from": "+15557654321", "auth_token": "x"}),
            "account_sid",
        ),
        (
            "twilio",
            json!({"account_sid": TW_SID, "from": "me", "auth_token": "x"}),
            "from",
        ),
        ("in_app", json!({"enabled": "yes"}), "enabled"),
        (
            "in_app",
            json!({"enabled": true, "colour": "red"}),
            "colour",
        ),
    ] {
        let res = app.put(&owner, &format!("{base}/{kind}"), body).await;
        assert_invalid(res, field).await;
    }
    let res = app
        .put(&owner, &format!("{base}/sms"), json!({"enabled": true}))
        .await;
    assert_invalid(res, "kind").await;

    let email = put_ok(&app, &owner, &p.id, "email", email_body()).await;
    assert_eq!(email["config"]["tls"], "starttls");
    assert_eq!(email["config"]["smtp_port"], 587);
    assert_eq!(email["secrets"]["password"]["set"], true);
    assert_eq!(email["secrets"]["inbound_secret"]["set"], false);
    // Inbound mail arrives at its own webhook (tests/api/email.rs).
    assert_eq!(
        email["webhook_url"],
        app.url(&format!("/api/v1/webhooks/email/{}", p.id))
    );
    let in_app = put_ok(&app, &owner, &p.id, "in_app", json!({"enabled": true})).await;
    assert_eq!(in_app["secrets"], json!({}));
    let tw = put_ok(&app, &owner, &p.id, "twilio", twilio_body()).await;
    assert_eq!(tw["config"]["api_base_url"], "https://api.twilio.com");
    assert_eq!(
        tw["webhook_url"],
        app.url(&format!("/api/v1/webhooks/twilio/{}", p.id))
    );

    // The database holds sealed blobs only: no plaintext secret anywhere in the rows.
    let rows: Vec<(String, String, Option<String>)> = app
        .state
        .store
        .db()
        .all("SELECT kind, config, secrets FROM channel_settings", ())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    for (kind, config, secrets) in &rows {
        for s in [
            WA_APP_SECRET,
            WA_VERIFY_TOKEN,
            WA_ACCESS_TOKEN,
            "replaced-secret-WXYZ",
            TW_AUTH_TOKEN,
            "smtp-password-secret",
        ] {
            assert!(!config.contains(s), "{kind} config holds {s}");
            assert!(
                !secrets.as_deref().unwrap_or_default().contains(s),
                "{kind} secrets hold {s} in the clear"
            );
        }
    }
    app.stop().await;
}

/// Agents read (hints only), viewers get 403, only admins write, and another
/// project's owner gets 404.
async fn roles_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/channels", p.id);
    put_ok(&app, &owner, &p.id, "twilio", twilio_body()).await;
    let agent = app.as_role(Role::Agent).await;
    let viewer = app.as_role(Role::Viewer).await;
    let admin = app.as_role(Role::Admin).await;

    let seen = app.get_json(&agent, &format!("{base}/twilio")).await;
    assert_eq!(seen["secrets"]["auth_token"]["hint"], "…3210");
    assert!(!seen.to_string().contains(TW_AUTH_TOKEN));
    let res = app.get(&agent, &base).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .put(&agent, &format!("{base}/twilio"), twilio_body())
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    for path in [base.clone(), format!("{base}/twilio")] {
        let res = app.get(&viewer, &path).await;
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    put_ok(&app, &admin, &p.id, "twilio", twilio_body()).await;

    // A member of another project only (new accounts join the default
    // project, so the channel here lives in a second one): 404, nothing of it.
    let second = app.create_project(&owner, "Second").await;
    let base = format!("/api/v1/projects/{}/channels", second.id);
    put_ok(&app, &owner, &second.id, "twilio", twilio_body()).await;
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    for res in [
        app.get(&outsider, &base).await,
        app.get(&outsider, &format!("{base}/twilio")).await,
        app.put(&outsider, &format!("{base}/twilio"), twilio_body())
            .await,
    ] {
        let e = assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
        assert!(!e.to_string().contains(TW_SID));
    }
    // And their own project's channels are their own.
    let other = app.create_project(&outsider, "Other").await;
    let theirs = app
        .get_json(
            &outsider,
            &format!("/api/v1/projects/{}/channels/twilio", other.id),
        )
        .await;
    assert_eq!(theirs["configured"], false);
    app.stop().await;
}

on_both_backends!(settings_are_typed_and_secrets_write_only, roles_and_tenants);
