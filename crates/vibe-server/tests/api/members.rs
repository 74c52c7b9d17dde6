//! `/api/v1/projects/{id}/members`: admins and owners manage who sees a project.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

async fn patch(app: &TestApp, session: &Session, path: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .header("cookie", &session.0)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn member_emails(
    app: &TestApp,
    session: &Session,
    project_id: &str,
) -> Vec<(String, String)> {
    let res = app
        .get(session, &format!("/api/v1/projects/{project_id}/members"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    json_of(res).await["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn members_are_listed_added_changed_and_removed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let bob = app.create_user("bob@example.com", Role::Viewer).await;
    let b = app.create_project(&owner, "B").await;
    let base = format!("/api/v1/projects/{}/members", b.id);
    assert_eq!(
        member_emails(&app, &owner, &b.id).await,
        vec![(OWNER_EMAIL.to_owned(), "owner".to_owned())]
    );
    // Bob is not a member of B yet.
    assert_error(
        app.get(&bob, &base).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let res = app
        .post(
            &owner,
            &base,
            json!({"email": "Bob@Example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let added = json_of(res).await;
    assert_eq!(added["email"], "bob@example.com");
    assert_eq!(added["role"], "viewer");
    let bob_id = added["account_id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(&bob, &format!("/api/v1/projects/{}", b.id))
            .await
            .status(),
        StatusCode::OK
    );

    let again = app
        .post(
            &owner,
            &base,
            json!({"email": "bob@example.com", "role": "admin"}),
        )
        .await;
    assert_error(again, StatusCode::CONFLICT, "conflict").await;
    let unknown = app
        .post(
            &owner,
            &base,
            json!({"email": "nobody@example.com", "role": "viewer"}),
        )
        .await;
    let body = assert_error(unknown, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(body["field"], "email");
    let bad_role = app
        .post(
            &owner,
            &base,
            json!({"email": "bob@example.com", "role": "god"}),
        )
        .await;
    let body = assert_error(bad_role, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(body["field"], "role");
    let missing = app
        .post(&owner, &base, json!({"email": "bob@example.com"}))
        .await;
    assert_error(missing, StatusCode::BAD_REQUEST, "missing_field").await;

    // A viewer may not manage members; promoted to admin, they may.
    assert_error(
        app.get(&bob, &base).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = patch(
        &app,
        &owner,
        &format!("{base}/{bob_id}"),
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["role"], "admin");
    assert_eq!(
        member_emails(&app, &bob, &b.id).await,
        vec![
            (OWNER_EMAIL.to_owned(), "owner".to_owned()),
            ("bob@example.com".to_owned(), "admin".to_owned()),
        ]
    );

    // The last owner cannot leave or be demoted.
    let me = json_of(app.get(&owner, "/api/v1/auth/me").await).await;
    let owner_id = me["account"]["id"].as_str().unwrap().to_owned();
    let res = patch(
        &app,
        &owner,
        &format!("{base}/{owner_id}"),
        json!({"role": "viewer"}),
    )
    .await;
    assert_error(res, StatusCode::CONFLICT, "conflict").await;
    let res = app.delete(&owner, &format!("{base}/{owner_id}")).await;
    assert_error(res, StatusCode::CONFLICT, "conflict").await;

    let res = app.delete(&owner, &format!("{base}/{bob_id}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        app.get(&bob, &base).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app.delete(&owner, &format!("{base}/{bob_id}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn admins_cannot_touch_owners_and_outsiders_see_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let default = app.default_project(&owner).await;
    let alice = app.create_user("alice@example.com", Role::Admin).await;
    let viewer = app.create_user("vera@example.com", Role::Viewer).await;
    let _carol = app.create_user("carol@example.com", Role::Viewer).await;
    let base = format!("/api/v1/projects/{}/members", default.id);

    // Viewers: 403 on every members route.
    assert_error(
        app.get(&viewer, &base).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let res = app
        .post(
            &viewer,
            &base,
            json!({"email": "carol@example.com", "role": "viewer"}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Admins manage viewers and admins, not owners.
    let members = json_of(app.get(&alice, &base).await).await;
    let id_of = |email: &str| {
        members["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == email)
            .map(|m| m["account_id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let owner_id = id_of(OWNER_EMAIL);
    let vera_id = id_of("vera@example.com");
    let res = patch(
        &app,
        &alice,
        &format!("{base}/{vera_id}"),
        json!({"role": "admin"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = patch(
        &app,
        &alice,
        &format!("{base}/{vera_id}"),
        json!({"role": "owner"}),
    )
    .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = patch(
        &app,
        &alice,
        &format!("{base}/{owner_id}"),
        json!({"role": "viewer"}),
    )
    .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = app.delete(&alice, &format!("{base}/{owner_id}")).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    // A project Alice is not in: 404, whatever she tries.
    let b = app.create_project(&owner, "Secret").await;
    let other = format!("/api/v1/projects/{}/members", b.id);
    assert_error(
        app.get(&alice, &other).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app
        .post(
            &alice,
            &other,
            json!({"email": "alice@example.com", "role": "admin"}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = patch(
        &app,
        &alice,
        &format!("{other}/{owner_id}"),
        json!({"role": "viewer"}),
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.delete(&alice, &format!("{other}/{owner_id}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(member_emails(&app, &owner, &b.id).await.len(), 1);
}

crate::on_both_backends!(
    members_are_listed_added_changed_and_removed,
    admins_cannot_touch_owners_and_outsiders_see_nothing,
);
