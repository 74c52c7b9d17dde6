//! `/api/v1/projects/{id}/members`: admins and owners manage who sees a project.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;

fn role(role: &str) -> Value {
    json!({ "role": role })
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
        app.members(&owner, &b.id).await,
        vec![(OWNER_EMAIL.to_owned(), "owner".to_owned())]
    );
    // Bob is not a member of B yet.
    let res = app.get(&bob, &base).await;
    assert_error(res, NOT_FOUND, "not_found").await;

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

    let add = |email: &str, role: &str| json!({"email": email, "role": role});
    let again = app
        .post(&owner, &base, add("bob@example.com", "admin"))
        .await;
    assert_error(again, StatusCode::CONFLICT, "conflict").await;
    let unknown = app
        .post(&owner, &base, add("nobody@example.com", "viewer"))
        .await;
    assert_field_error(unknown, NOT_FOUND, "not_found", "email").await;
    let bad_role = app.post(&owner, &base, add("bob@example.com", "god")).await;
    assert_invalid(bad_role, "role").await;
    let missing = app
        .post(&owner, &base, json!({"email": "bob@example.com"}))
        .await;
    assert_error(missing, StatusCode::BAD_REQUEST, "missing_field").await;

    // A viewer may not manage members; promoted to admin, they may.
    let res = app.get(&bob, &base).await;
    assert_error(res, FORBIDDEN, "forbidden").await;
    let bob_member = format!("{base}/{bob_id}");
    let res = app.patch(&owner, &bob_member, role("admin")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json_of(res).await["role"], "admin");
    assert_eq!(
        app.members(&bob, &b.id).await,
        vec![
            (OWNER_EMAIL.to_owned(), "owner".to_owned()),
            ("bob@example.com".to_owned(), "admin".to_owned()),
        ]
    );

    // The last owner cannot leave or be demoted.
    let owner_id = app.account_id(&owner).await;
    let me = format!("{base}/{owner_id}");
    let calls = vec![
        (Method::PATCH, me.clone(), Some(role("viewer"))),
        (Method::DELETE, me, None),
    ];
    let conflict = (StatusCode::CONFLICT, "conflict");
    assert_refused(&app, &owner, conflict, calls).await;

    let res = app.delete(&owner, &format!("{base}/{bob_id}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&bob, &base).await;
    assert_error(res, NOT_FOUND, "not_found").await;
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

    let add = |email: &str, role: &str| Some(json!({"email": email, "role": role}));
    // Viewers: 403 on every members route.
    let calls = vec![
        (Method::GET, base.clone(), None),
        (
            Method::POST,
            base.clone(),
            add("carol@example.com", "viewer"),
        ),
    ];
    assert_refused(&app, &viewer, (FORBIDDEN, "forbidden"), calls).await;

    // Admins manage viewers and admins, not owners.
    let members = app.get_json(&alice, &base).await;
    let id_of = |email: &str| {
        list(&members, "members")
            .iter()
            .find(|m| m["email"] == email)
            .map(|m| string_at(m, "account_id"))
            .unwrap()
    };
    let owner_id = id_of(OWNER_EMAIL);
    let vera_id = id_of("vera@example.com");
    let (vera, owner_member) = (format!("{base}/{vera_id}"), format!("{base}/{owner_id}"));
    let res = app.patch(&alice, &vera, role("admin")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let calls = vec![
        (Method::PATCH, vera, Some(role("owner"))),
        (Method::PATCH, owner_member.clone(), Some(role("viewer"))),
        (Method::DELETE, owner_member, None),
    ];
    assert_refused(&app, &alice, (FORBIDDEN, "forbidden"), calls).await;

    // A project Alice is not in: 404, whatever she tries.
    let b = app.create_project(&owner, "Secret").await;
    let other = format!("/api/v1/projects/{}/members", b.id);
    let calls = vec![
        (Method::GET, other.clone(), None),
        (
            Method::POST,
            other.clone(),
            add("alice@example.com", "admin"),
        ),
        (
            Method::PATCH,
            format!("{other}/{owner_id}"),
            Some(role("viewer")),
        ),
        (Method::DELETE, format!("{other}/{owner_id}"), None),
    ];
    assert_refused(&app, &alice, (NOT_FOUND, "not_found"), calls).await;
    assert_eq!(app.members(&owner, &b.id).await.len(), 1);
}

crate::on_both_backends!(
    members_are_listed_added_changed_and_removed,
    admins_cannot_touch_owners_and_outsiders_see_nothing,
);
