use reqwest::StatusCode;
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
    let me = json_of(app.get(&session, "/api/v1/auth/me").await).await;
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
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": OWNER_EMAIL}))
        .send()
        .await
        .unwrap();
    let err = assert_error(res, StatusCode::BAD_REQUEST, "missing_field").await;
    assert_eq!(err["field"], "password");
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_json").await;
    // No cookie, no token, a bogus token.
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .bearer_auth("vbt_nope")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

async fn api_tokens_authenticate_scripts_until_revoked(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let res = app
        .post(&owner, "/api/v1/tokens", json!({"name": "ci"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = json_of(res).await;
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("vbt_"));
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let listed = json_of(app.get(&owner, "/api/v1/tokens").await).await;
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
    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_error(
        app.post(&owner, "/api/v1/tokens", json!({"name": " "}))
            .await,
        StatusCode::BAD_REQUEST,
        "missing_field",
    )
    .await;
}

async fn first_run_without_admin_env_uses_a_setup_link(backend: Backend) {
    let Some(app) = spawn_app_with(backend, |c| {
        c.admin_email = None;
        c.admin_password = None;
    })
    .await
    else {
        return;
    };
    let token = app
        .state
        .setup_token
        .lock()
        .unwrap()
        .clone()
        .expect("a setup token");
    let setup = |body| app.client.post(app.url("/api/v1/setup")).json(&body).send();
    let res =
        setup(json!({"token": "wrong", "email": "me@example.com", "password": "long-enough"}))
            .await
            .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_token").await;
    let res = setup(json!({"token": token, "email": "me@example.com", "password": "short"}))
        .await
        .unwrap();
    assert_eq!(
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await["field"],
        "password"
    );
    let res = setup(json!({"token": token, "email": "me@example.com", "password": "long-enough"}))
        .await
        .unwrap();
    let session = session_from(res);
    let projects = app.projects(&session).await;
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].name, "My website");
    let res = setup(json!({"token": token, "email": "two@example.com", "password": "long-enough"}))
        .await
        .unwrap();
    assert_error(res, StatusCode::GONE, "setup_done").await;
    let page = app
        .client
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
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
    let bad = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"name": "X", "allowed_origins": ["shop.example"]}),
        )
        .await;
    assert_eq!(
        assert_error(bad, StatusCode::BAD_REQUEST, "invalid_field").await["field"],
        "allowed_origins[0]"
    );
    let bad = app
        .post(
            &owner,
            "/api/v1/projects",
            json!({"name": "X", "timezone": "Mars"}),
        )
        .await;
    assert_eq!(
        assert_error(bad, StatusCode::BAD_REQUEST, "invalid_field").await["field"],
        "timezone"
    );

    let id = p["id"].as_str().unwrap();
    let snippet = json_of(
        app.get(&owner, &format!("/api/v1/projects/{id}/snippet"))
            .await,
    )
    .await;
    let tag = snippet["snippet"].as_str().unwrap();
    assert!(
        tag.contains(&format!("src=\"{}/vibe.js\"", app.base)),
        "{tag}"
    );
    assert!(tag.contains(p["write_key"].as_str().unwrap()));

    // Admins change settings; bad values name their field; absent fields stay.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/projects/{id}")))
        .header("cookie", &owner.0)
        .json(&json!({"name": "Shop NL", "online_window_s": 120}))
        .send()
        .await
        .unwrap();
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
        .client
        .patch(app.url(&format!("/api/v1/projects/{id}")))
        .header("cookie", &owner.0)
        .json(&json!({"online_window_s": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await["field"],
        "online_window_s"
    );

    // A viewer may read but not mint keys or change settings.
    let viewer = app.create_user("viewer@example.com", Role::Viewer).await;
    let default = app.default_project(&owner).await;
    let res = app
        .post(
            &viewer,
            &format!("/api/v1/projects/{}/keys", default.id),
            json!({"name": "x"}),
        )
        .await;
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
