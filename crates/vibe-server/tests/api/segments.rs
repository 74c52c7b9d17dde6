//! Custom segments: CRUD, counts (create, refresh, preview), validation naming
//! the JSON path, the people list and CSV export filtered by a segment,
//! injection-looking values as data, roles and tenants.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

/// ana (pro, tagged vip, exports twice), bob (free, exports once), cy (a
/// trait holding an injection-looking value).
async fn people(app: &TestApp, owner: &Session, base: &str, key: &str) {
    let batch = vec![
        pageview("a1", "s-a1", "https://shop.example/"),
        identify("a1", "s-a1", "ana", json!({"plan": "pro", "age": 30})),
        event("a1", "s-a1", "export"),
        event("a1", "s-a1", "export"),
        pageview("b1", "s-b1", "https://shop.example/"),
        identify("b1", "s-b1", "bob", json!({"plan": "free", "age": 17})),
        event("b1", "s-b1", "export"),
        pageview("c1", "s-c1", "https://shop.example/"),
        identify("c1", "s-c1", "cy", json!({"note": "' OR 1=1 --"})),
    ];
    app.collect_ok(key, batch).await;
    let res = app
        .patch(
            owner,
            &format!("{base}/users/ana"),
            json!({"tags": ["vip"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

fn user_ids(body: &Value) -> Vec<String> {
    sorted_strings(list(body, "users"), "user_id")
}

fn exporters() -> Value {
    json!({"all": [
        {"field": "event", "op": "performed", "name": "export"},
        {"not": {"field": "tag", "op": "has", "value": "vip"}}
    ]})
}

async fn segments_crud_counts_and_filters(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    people(&app, &owner, &base, &p.write_key).await;

    // Create: saved with its count.
    let body = json!({"name": "Exporters", "description": "Not VIP yet", "criteria": exporters()});
    let seg = created(app.post(&owner, &format!("{base}/segments"), body).await).await;
    let sid = string_at(&seg, "id");
    assert_eq!(seg["name"], "Exporters");
    assert_eq!(seg["description"], "Not VIP yet");
    assert_eq!(seg["criteria"], exporters());
    assert_eq!(seg["user_count"], 1);
    assert!(seg["counted_at"].is_i64());

    let listed = app.get_json(&owner, &format!("{base}/segments")).await;
    assert_eq!(list(&listed, "segments"), std::slice::from_ref(&seg));
    assert_eq!(
        app.get_json(&owner, &format!("{base}/segments/{sid}"))
            .await,
        seg
    );

    // The people list and the CSV export take the segment's id.
    let users = app
        .get_json(&owner, &format!("{base}/users?segment={sid}"))
        .await;
    assert_eq!(user_ids(&users), ["bob"]);
    assert_eq!(users["segment"], json!(sid));
    // It combines with the other filters.
    let users = app
        .get_json(&owner, &format!("{base}/users?segment={sid}&q=ana"))
        .await;
    assert!(list(&users, "users").is_empty());
    let res = app
        .get(&owner, &format!("{base}/export/users.csv?segment={sid}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains(&format!("users-segment-{sid}")),
        "{disposition}"
    );
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].starts_with("bob,"), "{text}");
    // Built-in segments still work, unknown ids are refused.
    let users = app
        .get_json(&owner, &format!("{base}/users?segment=all"))
        .await;
    assert_eq!(user_ids(&users), ["ana", "bob", "cy"]);
    assert_invalid(
        app.get(&owner, &format!("{base}/users?segment=no-such-segment"))
            .await,
        "segment",
    )
    .await;
    assert_invalid(
        app.get(
            &owner,
            &format!("{base}/export/users.csv?segment=no-such-segment"),
        )
        .await,
        "segment",
    )
    .await;

    // Refresh recounts after the data changed.
    let res = app
        .patch(&owner, &format!("{base}/users/ana"), json!({"tags": []}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let stale = app
        .get_json(&owner, &format!("{base}/segments/{sid}"))
        .await;
    assert_eq!(stale["user_count"], 1);
    let fresh = app
        .post_json(&owner, &format!("{base}/segments/{sid}/refresh"), json!({}))
        .await;
    assert_eq!(fresh["user_count"], 2);

    // Preview counts without saving.
    let preview = app
        .post_json(
            &owner,
            &format!("{base}/segments/preview"),
            json!({"criteria": {"field": "trait", "key": "age", "op": "gt", "value": 18}}),
        )
        .await;
    assert_eq!(preview["user_count"], 1);
    let listed = app.get_json(&owner, &format!("{base}/segments")).await;
    assert_eq!(list(&listed, "segments").len(), 1);

    // An injection-looking value is data: it matches exactly its person.
    let criteria = json!({"field": "trait", "key": "note", "op": "eq", "value": "' OR 1=1 --"});
    let preview = app
        .post_json(
            &owner,
            &format!("{base}/segments/preview"),
            json!({"criteria": criteria}),
        )
        .await;
    assert_eq!(preview["user_count"], 1);

    // Update replaces the definition and recounts.
    let body = json!({"name": "Pro", "criteria": {"field": "plan", "op": "eq", "value": "pro"}});
    let res = app
        .put(&owner, &format!("{base}/segments/{sid}"), body)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated = json_of(res).await;
    assert_eq!(
        (
            &updated["name"],
            &updated["description"],
            &updated["user_count"]
        ),
        (&json!("Pro"), &Value::Null, &json!(1))
    );
    assert_eq!(updated["created_at"], seg["created_at"]);
    let users = app
        .get_json(&owner, &format!("{base}/users?segment={sid}"))
        .await;
    assert_eq!(user_ids(&users), ["ana"]);

    // Delete.
    let res = app.delete(&owner, &format!("{base}/segments/{sid}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, format!("{base}/segments/{sid}")),
        (Method::DELETE, format!("{base}/segments/{sid}")),
        (Method::POST, format!("{base}/segments/{sid}/refresh")),
    ] {
        let res = app.call(&owner, method, &path, None).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_invalid(
        app.get(&owner, &format!("{base}/users?segment={sid}"))
            .await,
        "segment",
    )
    .await;
}

async fn invalid_criteria_name_the_json_path(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let url = format!("{base}/segments");
    let ok = json!({"field": "plan", "op": "exists"});
    let cases = [
        (
            json!({"all": [ok, ok, {"field": "trait", "key": "k", "op": "like", "value": 1}]}),
            "criteria.all[2].op",
        ),
        (
            json!({"any": [{"not": {"field": "sessions", "op": "gt", "value": "3"}}]}),
            "criteria.any[0].not.value",
        ),
        (json!({"field": "color", "op": "eq"}), "criteria.field"),
        (
            json!({"all": [{"field": "trait", "op": "eq", "value": 1}]}),
            "criteria.all[0].key",
        ),
        (
            json!({"all": [{"field": "priority", "op": "eq", "value": "urgent"}]}),
            "criteria.all[0].value",
        ),
        (
            json!({"field": "event", "op": "performed", "name": "x", "count": 0}),
            "criteria.count",
        ),
        (
            json!({"field": "last_seen", "op": "within_days", "value": -1}),
            "criteria.value",
        ),
        (
            json!({"field": "total_spent", "op": "gt", "value": 1, "currency": "euro"}),
            "criteria.currency",
        ),
        (
            json!({"field": "subscription_status", "op": "eq", "value": "paused"}),
            "criteria.value",
        ),
        (
            json!({"field": "tag", "op": "has", "value": "x", "typo": 1}),
            "criteria.typo",
        ),
        (json!("everyone"), "criteria"),
        (json!({"all": {"field": "plan"}}), "criteria.all"),
        (json!({"not": ok, "all": []}), "criteria.not"),
    ];
    for (criteria, field) in cases {
        let body = json!({"name": "Bad", "criteria": criteria});
        assert_invalid(app.post(&owner, &url, body.clone()).await, field).await;
        let preview = json!({"criteria": criteria});
        assert_invalid(
            app.post(&owner, &format!("{url}/preview"), preview).await,
            field,
        )
        .await;
    }
    // Depth and count limits.
    let mut deep = ok.clone();
    for _ in 0..6 {
        deep = json!({"not": deep});
    }
    let res = app
        .post(&owner, &url, json!({"name": "Deep", "criteria": deep}))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    let many: Vec<Value> = (0..51).map(|_| ok.clone()).collect();
    assert_invalid(
        app.post(
            &owner,
            &url,
            json!({"name": "Many", "criteria": {"any": many}}),
        )
        .await,
        "criteria.any[50]",
    )
    .await;
    // The body's own fields.
    assert_field_error(
        app.post(&owner, &url, json!({"name": " ", "criteria": ok}))
            .await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "name",
    )
    .await;
    assert_field_error(
        app.post(&owner, &url, json!({"name": "No criteria"})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
        "criteria",
    )
    .await;
    let long = "x".repeat(1001);
    assert_invalid(
        app.post(
            &owner,
            &url,
            json!({"name": "Long", "description": long, "criteria": ok}),
        )
        .await,
        "description",
    )
    .await;
    // Nothing was saved.
    let listed = app.get_json(&owner, &url).await;
    assert!(list(&listed, "segments").is_empty());
}

async fn segments_follow_roles_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    people(&app, &owner, &base, &p.write_key).await;
    let body = json!({"name": "VIPs", "criteria": {"field": "tag", "op": "has", "value": "vip"}});
    let seg = created(
        app.post(&owner, &format!("{base}/segments"), body.clone())
            .await,
    )
    .await;
    let sid = string_at(&seg, "id");

    // A viewer reads and previews, and may not write.
    let viewer = app.as_role(Role::Viewer).await;
    assert_eq!(
        app.get_json(&viewer, &format!("{base}/segments/{sid}"))
            .await["user_count"],
        1
    );
    let preview = app
        .post_json(
            &viewer,
            &format!("{base}/segments/preview"),
            json!({"criteria": body["criteria"]}),
        )
        .await;
    assert_eq!(preview["user_count"], 1);
    let users = app
        .get_json(&viewer, &format!("{base}/users?segment={sid}"))
        .await;
    assert_eq!(user_ids(&users), ["ana"]);
    assert_refused(
        &app,
        &viewer,
        (StatusCode::FORBIDDEN, "forbidden"),
        vec![
            (Method::POST, format!("{base}/segments"), Some(body.clone())),
            (
                Method::PUT,
                format!("{base}/segments/{sid}"),
                Some(body.clone()),
            ),
            (Method::DELETE, format!("{base}/segments/{sid}"), None),
            (Method::POST, format!("{base}/segments/{sid}/refresh"), None),
        ],
    )
    .await;

    // Another project's owner sees none of it, even with the id.
    let other = app.create_project(&owner, "Other").await;
    let obase = format!("/api/v1/projects/{}", other.id);
    for (method, path, body) in [
        (Method::GET, format!("{obase}/segments/{sid}"), None),
        (
            Method::PUT,
            format!("{obase}/segments/{sid}"),
            Some(body.clone()),
        ),
        (Method::DELETE, format!("{obase}/segments/{sid}"), None),
        (
            Method::POST,
            format!("{obase}/segments/{sid}/refresh"),
            None,
        ),
    ] {
        let res = app.call(&owner, method, &path, body).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_invalid(
        app.get(&owner, &format!("{obase}/users?segment={sid}"))
            .await,
        "segment",
    )
    .await;
    let listed = app.get_json(&owner, &format!("{obase}/segments")).await;
    assert!(list(&listed, "segments").is_empty());
    // The other project's counts are of its own people.
    let everyone = json!({"criteria": {"all": []}});
    let n = app
        .post_json(&owner, &format!("{obase}/segments/preview"), everyone)
        .await;
    assert_eq!(n["user_count"], 0);
    // And the segment is untouched.
    assert_eq!(
        app.get_json(&owner, &format!("{base}/segments/{sid}"))
            .await,
        seg
    );
}

/// The maintenance task recounts segments whose count is older than
/// `SEGMENT_RECOUNT_MS`, and leaves fresh counts alone.
async fn maintenance_recounts_stale_segments(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    people(&app, &owner, &base, &p.write_key).await;
    let body = json!({"name": "VIPs", "criteria": {"field": "tag", "op": "has", "value": "vip"}});
    let seg = created(app.post(&owner, &format!("{base}/segments"), body).await).await;
    let sid = string_at(&seg, "id");
    assert_eq!(seg["user_count"], 1);
    let res = app
        .patch(
            &owner,
            &format!("{base}/users/bob"),
            json!({"tags": ["vip"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let count = || async {
        app.get_json(&owner, &format!("{base}/segments/{sid}"))
            .await["user_count"]
            .clone()
    };
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(count().await, 1, "a fresh count is left alone");
    app.clock.advance_ms(vibe_server::SEGMENT_RECOUNT_MS + 1);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(count().await, 2);
}

crate::on_both_backends!(
    maintenance_recounts_stale_segments,
    segments_crud_counts_and_filters,
    invalid_criteria_name_the_json_path,
    segments_follow_roles_and_tenants,
);
