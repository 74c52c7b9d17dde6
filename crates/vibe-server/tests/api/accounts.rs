use reqwest::{Method, StatusCode};
use serde_json::json;
use vibe_store::Role;

use crate::helpers::*;

async fn login_sets_an_httponly_cookie(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.login(OWNER_EMAIL, OWNER_PASSWORD).await;
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = session_from(res);
    let me = app.get_json(&session, "/api/v1/auth/me").await;
    assert_eq!(me["account"]["email"], OWNER_EMAIL);
    assert_eq!(me["account"]["role"], "owner");

    let res = app.post(&session, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get(&session, "/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
        "session_expired",
    )
    .await;
}

async fn wrong_password_and_missing_credentials(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    assert_error(
        app.login(OWNER_EMAIL, "wrong-password").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_error(
        app.login("nobody@example.com", OWNER_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let login = "/api/v1/auth/login";
    let no_password = Some(json!({"email": OWNER_EMAIL}));
    let res = app.call_anonymous(Method::POST, login, no_password).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "password").await;
    let json_login = app
        .request(Method::POST, login)
        .header("content-type", "application/json");
    let res = json_login.body("{not json").send().await.unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_json").await;
    // No cookie, no token, a bogus token.
    let projects = || app.request(Method::GET, "/api/v1/projects");
    for req in [projects(), projects().bearer_auth("vbt_nope")] {
        let res = req.send().await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

async fn api_tokens_authenticate_scripts_until_revoked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let body = app.mint_token(&owner, "ci").await;
    let secret = string_at(&body, "secret");
    assert!(secret.starts_with("vbt_"));
    let projects = || app.request(Method::GET, "/api/v1/projects");
    let res = projects().bearer_auth(&secret).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let listed = app.get_json(&owner, "/api/v1/tokens").await;
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is never listed"
    );
    let id = body["token"]["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&owner, &format!("/api/v1/tokens/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let res = projects().bearer_auth(&secret).send().await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let blank = app
        .post(&owner, "/api/v1/tokens", json!({"name": " "}))
        .await;
    assert_error(blank, StatusCode::BAD_REQUEST, "missing_field").await;
}

async fn first_run_without_admin_env_uses_a_setup_link(backend: Backend) {
    let Some(app) = spawn_app_with(backend, without_admin).await else {
        return;
    };
    let token = app.setup_token();
    let res = app.setup_as("wrong", "me@example.com").await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_token").await;
    let res = app
        .setup(json!({"token": token, "email": "me@example.com", "password": "short"}))
        .await;
    assert_invalid(res, "password").await;
    let session = session_from(app.setup_as(&token, "me@example.com").await);
    let projects = app.projects(&session).await;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].name, "My website");
    let res = app.setup_as(&token, "two@example.com").await;
    assert_error(res, StatusCode::GONE, "setup_done").await;
    let page = app.request(Method::GET, &format!("/setup?token={token}"));
    let page = page.send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

async fn creating_projects_and_secret_keys(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let res = app
        .post(&owner, "/api/v1/projects", json!({"name": "Shop", "allowed_origins": ["https://shop.example"], "timezone": "Europe/Amsterdam"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let p = json_of(res).await;
    assert_eq!(p["allowed_origins"], json!(["https://shop.example"]));
    assert!(p["write_key"].as_str().unwrap().starts_with("wk_"));
    assert_eq!(app.projects(&owner).await.len(), 2);
    for (bad, field) in [
        (
            json!({"name": "X", "allowed_origins": ["shop.example"]}),
            "allowed_origins[0]",
        ),
        (json!({"name": "X", "timezone": "Mars"}), "timezone"),
    ] {
        assert_invalid(app.post(&owner, "/api/v1/projects", bad).await, field).await;
    }

    let id = p["id"].as_str().unwrap();
    let snippet = app
        .get_json(&owner, &format!("/api/v1/projects/{id}/snippet"))
        .await;
    let tag = snippet["snippet"].as_str().unwrap();
    assert!(
        tag.contains(&format!("src=\"{}/vibe.js\"", app.base)),
        "{tag}"
    );
    assert!(tag.contains(p["write_key"].as_str().unwrap()));

    // Admins change settings; bad values name their field; absent fields stay.
    let settings = format!("/api/v1/projects/{id}");
    let change = json!({"name": "Shop NL", "online_window_s": 120});
    let res = app.patch(&owner, &settings, change).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed = json_of(res).await;
    assert_eq!(
        (
            changed["name"].as_str(),
            changed["online_window_s"].as_i64()
        ),
        (Some("Shop NL"), Some(120))
    );
    assert_eq!(changed["timezone"], "Europe/Amsterdam");
    let res = app
        .patch(&owner, &settings, json!({"online_window_s": 5}))
        .await;
    assert_invalid(res, "online_window_s").await;

    // A viewer may read but not mint keys or change settings.
    let viewer = app.as_role(Role::Viewer).await;
    let default = app.default_project(&owner).await;
    let keys = format!("/api/v1/projects/{}/keys", default.id);
    let res = app.post(&viewer, &keys, json!({"name": "x"})).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        app.online(&viewer, &default.id).await.status(),
        StatusCode::OK
    );
}

crate::on_both_backends!(
    login_sets_an_httponly_cookie,
    wrong_password_and_missing_credentials,
    api_tokens_authenticate_scripts_until_revoked,
    first_run_without_admin_env_uses_a_setup_link,
    creating_projects_and_secret_keys,
);
