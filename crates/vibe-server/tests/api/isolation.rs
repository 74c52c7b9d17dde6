use reqwest::StatusCode;
use serde_json::json;
use vibe_store::Role;

use crate::helpers::*;

/// Project A's write key only ever writes into A, and a member of A gets 404 —
/// not B's data — for every route under B.
async fn projects_are_isolated(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let a = app.default_project(&owner).await;
    let b = app.create_project(&owner, "B").await;
    app.collect_ok(
        &a.write_key,
        vec![pageview("same-anon", "same-session", "https://a.example/")],
    )
    .await;
    assert_eq!(app.count_events(&a.id).await, 1);
    assert_eq!(app.count_events(&b.id).await, 0);
    assert!(app.online_visitors(&owner, &b.id).await.is_empty());

    // A member of A only.
    let alice = app.as_role(Role::Admin).await;
    let listed: Vec<String> = app
        .projects(&alice)
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(listed, vec![a.id.clone()]);
    assert_eq!(app.online_visitors(&alice, &a.id).await.len(), 1);
    for path in [
        "",
        "/online",
        "/events",
        "/snippet",
        "/keys",
        "/metrics",
        "/stats/daily",
    ] {
        let res = app
            .get(&alice, &format!("/api/v1/projects/{}{path}", b.id))
            .await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    let b_keys = format!("/api/v1/projects/{}/keys", b.id);
    let res = app.post(&alice, &b_keys, json!({"name": "steal"})).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // B's secret key cannot write as A, and A's data stays A's.
    let b_secret = app.secret_key(&owner, &b.id, "b").await;
    let as_a = json!({"id": uuid(), "anonymous_id": "same-anon", "name": "x", "project_id": a.id});
    let res = app.post_bearer(&b_secret, "/api/v1/track", as_a).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(app.count_events(&a.id).await, 1);
    assert_eq!(app.count_events(&b.id).await, 1);
}

crate::on_both_backends!(projects_are_isolated);
