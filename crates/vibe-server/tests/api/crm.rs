//! Contact CRM fields: tags, priority, properties, notes; the tag list and the
//! people-list filters; validation naming the field; roles and tenants.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

/// Identified visitors `anon` → `user` on the project of `key`.
async fn people(app: &TestApp, key: &str, who: &[(&str, &str)]) {
    let mut batch = Vec::new();
    for (anon, user) in who {
        let session = format!("s-{anon}");
        batch.push(pageview(anon, &session, "https://shop.example/"));
        let traits = json!({"email": format!("{user}@shop.example")});
        batch.push(identify(anon, &session, user, traits));
    }
    app.collect_ok(key, batch).await;
}

/// Patches `ana` in the project at `base` and adds a note; returns its id.
async fn patch_and_note(
    app: &TestApp,
    owner: &Session,
    base: &str,
    patch: Value,
    note: &str,
) -> String {
    let res = app.patch(owner, &format!("{base}/users/ana"), patch).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json!({"body": note});
    let res = app
        .post(owner, &format!("{base}/users/ana/notes"), body)
        .await;
    string_at(&created(res).await, "id")
}

fn ids(body: &Value) -> Vec<String> {
    sorted_strings(list(body, "users"), "user_id")
}

async fn contact_fields_tags_and_filters(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(
        &app,
        &p.write_key,
        &[("a1", "ana"), ("b1", "bob"), ("c1", "cy")],
    )
    .await;
    let base = format!("/api/v1/projects/{}", p.id);

    let fresh = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(
        (
            &fresh["tags"],
            &fresh["priority"],
            &fresh["properties"],
            &fresh["notes_count"]
        ),
        (&json!([]), &Value::Null, &json!({}), &json!(0))
    );

    // Tags are a set: trimmed, lowercased, duplicates collapse. Any id of the
    // person works, as for GET.
    let body = json!({"tags": [" VIP", "vip", "Beta "], "priority": "high",
        "properties": {"company": "Acme", "seats": 5}});
    let res = app.patch(&owner, &format!("{base}/users/a1"), body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let ana = json_of(res).await;
    assert_eq!(ana["user_id"], "ana");
    assert_eq!(ana["tags"], json!(["beta", "vip"]));
    assert_eq!(ana["priority"], "high");
    assert_eq!(ana["properties"], json!({"company": "Acme", "seats": 5}));
    assert_eq!(ana["total_sessions"], 1);
    // The PATCH answers with exactly what GET shows.
    assert_eq!(
        app.get_json(&owner, &format!("{base}/users/ana")).await,
        ana
    );

    // Properties merge (later keys win, null removes); absent fields stay.
    let merge = json!({"properties": {"company": null, "seats": 7}});
    let ana = json_of(app.patch(&owner, &format!("{base}/users/ana"), merge).await).await;
    assert_eq!(ana["properties"], json!({"seats": 7}));
    assert_eq!(
        (&ana["tags"], &ana["priority"]),
        (&json!(["beta", "vip"]), &json!("high"))
    );

    for (user, body) in [
        ("bob", json!({"tags": ["vip"], "priority": "low"})),
        ("cy", json!({"tags": ["vip", "beta"], "priority": "high"})),
    ] {
        let res = app
            .patch(&owner, &format!("{base}/users/{user}"), body)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(
        app.get_json(&owner, &format!("{base}/tags")).await,
        json!({"tags": [{"tag": "vip", "count": 3}, {"tag": "beta", "count": 2}]})
    );
    let users_where = |q: &str| {
        let path = format!("{base}/users?{q}");
        let (app, owner) = (&app, &owner);
        async move { app.get_json(owner, &path).await }
    };
    assert_eq!(ids(&users_where("tag=vip").await), ["ana", "bob", "cy"]);
    assert_eq!(
        ids(&users_where("tag=VIP&priority=high").await),
        ["ana", "cy"]
    );
    assert_eq!(
        ids(&users_where("tag=beta&priority=high&q=cy&segment=active").await),
        ["cy"]
    );
    assert!(ids(&users_where("priority=vip").await).is_empty());
    // Filtered pages follow the cursor like unfiltered ones.
    let first = users_where("tag=vip&limit=2").await;
    let cursor = string_at(&first, "next_cursor");
    let rest = users_where(&format!("tag=vip&limit=2&cursor={cursor}")).await;
    assert_eq!(list(&first, "users").len() + list(&rest, "users").len(), 3);
    assert!(rest["next_cursor"].is_null());

    // Clearing: an empty set and a null priority.
    let clear = json!({"tags": [], "priority": null});
    let cy = json_of(app.patch(&owner, &format!("{base}/users/cy"), clear).await).await;
    assert_eq!((&cy["tags"], &cy["priority"]), (&json!([]), &Value::Null));
    assert_eq!(ids(&users_where("priority=high").await), ["ana"]);
}

async fn contact_validation_names_the_field(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let path = format!("{base}/users/ana");
    let too_many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    let long = "x".repeat(33);
    for (body, field) in [
        (json!({"tags": "vip"}), "tags"),
        (json!({"tags": ["ok", "fine", 3]}), "tags[2]"),
        (json!({"tags": ["ok", "  "]}), "tags[1]"),
        (json!({"tags": [long]}), "tags[0]"),
        (json!({"tags": ["a\u{7}b"]}), "tags[0]"),
        (json!({"tags": too_many}), "tags"),
        (json!({"priority": "urgent"}), "priority"),
        (json!({"priority": 3}), "priority"),
        (json!({"properties": [1]}), "properties"),
        (json!({"notes": "hi"}), "notes"),
    ] {
        let res = app.patch(&owner, &path, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_invalid(res, field).await;
    }
    // Fifty distinct tags are fine, and so are duplicates beyond them.
    let mut fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).collect();
    fifty.push("T0".into());
    let res = app.patch(&owner, &path, json!({"tags": fifty})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(list(&json_of(res).await, "tags").len(), 50);

    let too_large = |res| {
        assert_field_error(
            res,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "properties",
        )
    };
    let big = json!({"properties": {"blob": "x".repeat(16 * 1024)}});
    too_large(app.patch(&owner, &path, big).await).await;
    // Each patch fits, their merge would not: refused, nothing stored.
    let half = "y".repeat(9 * 1024);
    let res = app
        .patch(&owner, &path, json!({"properties": {"a": half}}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch(&owner, &path, json!({"properties": {"b": half, "c": 1}}))
        .await;
    too_large(res).await;
    let stored = app.get_json(&owner, &path).await;
    assert!(stored["properties"].get("b").is_none());

    let res = app
        .get(&owner, &format!("{base}/users?priority=urgent"))
        .await;
    assert_invalid(res, "priority").await;
    let res = app.get(&owner, &format!("{base}/users?tag=%20")).await;
    assert_invalid(res, "tag").await;

    let res = app
        .patch(
            &owner,
            &format!("{base}/users/nobody"),
            json!({"tags": ["x"]}),
        )
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn notes_list_add_and_delete(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana"), ("b1", "bob")]).await;
    let notes = format!("/api/v1/projects/{}/users/ana/notes", p.id);

    let res = app
        .post(
            &owner,
            &notes,
            json!({"body": "Called; wants the yearly plan"}),
        )
        .await;
    let first = created(res).await;
    assert_eq!(first["body"], "Called; wants the yearly plan");
    assert_eq!(first["author_email"], OWNER_EMAIL);
    assert!(first["created_at"].as_i64().is_some());
    app.clock.advance_ms(5_000);
    let second = created(
        app.post(&owner, &notes, json!({"body": "Sent the quote"}))
            .await,
    )
    .await;

    let listed = app.get_json(&owner, &notes).await;
    let order: Vec<&Value> = list(&listed, "notes").iter().map(|n| &n["id"]).collect();
    assert_eq!(order, [&second["id"], &first["id"]], "newest first");
    let profile = format!("/api/v1/projects/{}/users/ana", p.id);
    assert_eq!(app.get_json(&owner, &profile).await["notes_count"], 2);

    for (body, field) in [
        (json!({"body": ""}), "body"),
        (json!({"body": "   "}), "body"),
        (json!({"body": "x".repeat(10_001)}), "body"),
        (json!({"body": 5}), "body"),
    ] {
        assert_invalid(app.post(&owner, &notes, body).await, field).await;
    }
    let res = app.post(&owner, &notes, json!({})).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "body").await;
    let max = json!({"body": "é".repeat(10_000)});
    assert_eq!(
        app.post(&owner, &notes, max).await.status(),
        StatusCode::CREATED
    );

    // A note is deleted only through its own person.
    let fid = string_at(&first, "id");
    let bobs = format!("/api/v1/projects/{}/users/bob/notes/{fid}", p.id);
    assert_error(
        app.delete(&owner, &bobs).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let res = app.delete(&owner, &format!("{notes}/{fid}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.delete(&owner, &format!("{notes}/{fid}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(list(&app.get_json(&owner, &notes).await, "notes").len(), 2);

    let nobody = format!("/api/v1/projects/{}/users/nobody/notes", p.id);
    let res = app.post(&owner, &nobody, json!({"body": "hi"})).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn viewers_read_and_other_tenants_see_nothing(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let nid = patch_and_note(&app, &owner, &base, json!({"tags": ["vip"]}), "hello").await;

    // Viewers read everything and change nothing.
    let viewer = app.as_role(Role::Viewer).await;
    let tags = app.get_json(&viewer, &format!("{base}/tags")).await;
    assert_eq!(tags["tags"][0]["tag"], "vip");
    let notes = app
        .get_json(&viewer, &format!("{base}/users/ana/notes"))
        .await;
    assert_eq!(list(&notes, "notes").len(), 1);
    let writes = vec![
        (
            Method::PATCH,
            format!("{base}/users/ana"),
            Some(json!({"priority": "vip"})),
        ),
        (
            Method::POST,
            format!("{base}/users/ana/notes"),
            Some(json!({"body": "x"})),
        ),
        (
            Method::DELETE,
            format!("{base}/users/ana/notes/{nid}"),
            None,
        ),
    ];
    assert_refused(&app, &viewer, (StatusCode::FORBIDDEN, "forbidden"), writes).await;
    let ana = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(
        (&ana["priority"], &ana["notes_count"]),
        (&Value::Null, &json!(1))
    );

    // Project B's CRM data; the outsider is a member of the default project only.
    let b = app.create_project(&owner, "Bravo").await;
    people(&app, &b.write_key, &[("a1", "ana")]).await;
    let bravo = format!("/api/v1/projects/{}", b.id);
    let secret = json!({"tags": ["secret-tag"], "properties": {"deal": "secret-deal"}});
    let bnid = patch_and_note(&app, &owner, &bravo, secret, "secret-note").await;

    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let leaks = ["secret-tag", "secret-deal", "secret-note", "ana", "Bravo"];
    let calls = vec![
        (Method::GET, format!("{bravo}/tags"), None),
        (Method::GET, format!("{bravo}/users?tag=secret-tag"), None),
        (Method::GET, format!("{bravo}/users/ana"), None),
        (Method::GET, format!("{bravo}/users/ana/notes"), None),
        (
            Method::PATCH,
            format!("{bravo}/users/ana"),
            Some(json!({"tags": []})),
        ),
        (
            Method::POST,
            format!("{bravo}/users/ana/notes"),
            Some(json!({"body": "x"})),
        ),
        (
            Method::DELETE,
            format!("{bravo}/users/ana/notes/{bnid}"),
            None,
        ),
    ];
    for (method, path, body) in calls {
        let res = app.call(&outsider, method.clone(), &path, body).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {path}");
        let text = res.text().await.unwrap();
        for leak in leaks {
            assert!(
                !text.contains(leak),
                "{method} {path} leaked {leak}: {text}"
            );
        }
    }
    // Through a project one is a member of, B's ids and tags mean nothing.
    let tags = app.get_json(&outsider, &format!("{base}/tags")).await;
    assert_eq!(tags, json!({"tags": [{"tag": "vip", "count": 1}]}));
    let res = app
        .delete(&owner, &format!("{base}/users/ana/notes/{bnid}"))
        .await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let filtered = app
        .get_json(&outsider, &format!("{base}/users?tag=secret-tag"))
        .await;
    assert!(list(&filtered, "users").is_empty());
    let theirs = app
        .get_json(&owner, &format!("{bravo}/users/ana/notes"))
        .await;
    assert_eq!(list(&theirs, "notes").len(), 1);
    let ours = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(
        (&ours["tags"], &ours["properties"]),
        (&json!(["vip"]), &json!({}))
    );
}

/// Agents work with contacts: they tag, set priority and properties, and add
/// notes; they delete only their own notes. Admins delete anyone's.
async fn agents_edit_contacts_and_delete_only_their_own_notes(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(&app, &p.write_key, &[("a1", "ana")]).await;
    let base = format!("/api/v1/projects/{}", p.id);
    let owners_note = patch_and_note(&app, &owner, &base, json!({}), "by the owner").await;

    let agent = app.as_role(Role::Agent).await;
    let patch =
        json!({"tags": ["follow-up"], "priority": "high", "properties": {"stage": "trial"}});
    let res = app.patch(&agent, &format!("{base}/users/ana"), patch).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json!({"body": "called her"});
    let res = app
        .post(&agent, &format!("{base}/users/ana/notes"), body)
        .await;
    let agents_note = created(res).await;
    assert_eq!(agents_note["author_email"], "agent@example.com");

    let theirs = format!("{base}/users/ana/notes/{owners_note}");
    let res = app.delete(&agent, &theirs).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    let mine = format!("{base}/users/ana/notes/{}", string_at(&agents_note, "id"));
    let res = app.delete(&agent, &mine).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let missing = format!("{base}/users/ana/notes/no-such-note");
    let res = app.delete(&agent, &missing).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;

    // Settings-like writes stay with admins.
    let res = app
        .post(
            &agent,
            &format!("{base}/funnels"),
            json!({"name": "f", "steps": [{"match": "page", "value": "/"}]}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;

    let admin = app.as_role(Role::Admin).await;
    let res = app.delete(&admin, &theirs).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let ana = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(
        (&ana["tags"], &ana["priority"], &ana["notes_count"]),
        (&json!(["follow-up"]), &json!("high"), &json!(0))
    );
}

/// The timeline over HTTP: typed items newest first, a cursor that pages,
/// a refused cursor naming the field, nothing of another project.
async fn timeline_pages_and_refuses_foreign_cursors(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let visit = vec![
        pageview("a1", "s-a1", "https://shop.example/pricing"),
        event("a1", "s-a1", "clicked_buy"),
        identify("a1", "s-a1", "ana", json!({"email": "ana@shop.example"})),
    ];
    app.collect_ok(&p.write_key, visit).await;
    let res = app
        .post(
            &owner,
            &format!("{base}/users/ana/notes"),
            json!({"body": "hello"}),
        )
        .await;
    created(res).await;

    let url = format!("{base}/users/ana/timeline");
    let all = app.get_json(&owner, &url).await;
    let types = sorted_strings(list(&all, "items"), "type");
    assert_eq!(types, ["event", "note", "session"]);
    assert_eq!(all["next_cursor"], Value::Null);
    let items = list(&all, "items");
    assert!(items.iter().all(|i| i["ts"].is_i64()), "{all}");
    let session = items.iter().find(|i| i["type"] == "session").unwrap();
    assert_eq!(session["pages"][0]["path"], "/pricing");
    assert!(session["duration_s"].is_i64(), "{session}");
    let event = items.iter().find(|i| i["type"] == "event").unwrap();
    assert_eq!(event["name"], "clicked_buy");

    // One at a time: three pages, the same items.
    let mut seen = Vec::new();
    let mut next = format!("{url}?limit=1");
    for _ in 0..3 {
        let page = app.get_json(&owner, &next).await;
        let items = list(&page, "items");
        assert_eq!(items.len(), 1, "{page}");
        seen.push(items[0]["type"].as_str().unwrap().to_owned());
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{url}?limit=1&cursor={}", urlencoding(c)),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, types);

    for bad in ["?cursor=nonsense", "?limit=0", "?limit=101"] {
        let res = app.get(&owner, &format!("{url}{bad}")).await;
        let field = if bad.contains("cursor") {
            "cursor"
        } else {
            "limit"
        };
        assert_field_error(res, StatusCode::BAD_REQUEST, "invalid_field", field).await;
    }

    let b = app.create_project(&owner, "Bravo").await;
    let outsider = app.create_user("outsider@example.com", Role::Owner).await;
    let theirs = format!("/api/v1/projects/{}/users/ana/timeline", b.id);
    let res = app.get(&outsider, &theirs).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// Enough of percent-encoding for a cursor (digits, colons, an id).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The overview in one call: people, today's sessions and signups, revenue,
/// top features and this month's tokens, from the same rollups as the pages.
async fn overview_sums_up_the_crm(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let empty = app.get_json(&owner, &format!("{base}/crm/overview")).await;
    assert_eq!(
        (
            &empty["total_users"],
            &empty["signups_today"],
            &empty["revenue"]["total"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(empty["top_features"], json!([]));
    assert_eq!(empty["retention"]["day1"], Value::Null);

    people(&app, &p.write_key, &[("a1", "ana"), ("b1", "bob")]).await;
    app.collect_ok(
        &p.write_key,
        vec![pageview("c1", "s-c1", "https://shop.example/")],
    )
    .await;
    let secret = app.secret_key(&owner, &p.id, "backend").await;
    let batch = json!({"batch": [
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "payment",
         "props": {"payment_id": "pay_1", "amount": 1999, "currency": "USD"}},
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "report_built"},
        {"type": "event", "id": uuid(), "user_id": "ana", "name": "ai_usage",
         "props": {"model": "m1", "prompt_tokens": 10, "completion_tokens": 5}},
    ]});
    let res = app.post_bearer(&secret, "/api/v1/track", batch).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    let o = app.get_json(&owner, &format!("{base}/crm/overview")).await;
    assert_eq!(
        (&o["total_users"], &o["new_users"], &o["active_users"]),
        (&json!(3), &json!(3), &json!(3)),
        "{o}"
    );
    assert_eq!(
        (&o["sessions_today"], &o["signups_today"]),
        (&json!(3), &json!(2))
    );
    assert!(o["online_now"].as_i64().unwrap() >= 1, "{o}");
    assert_eq!(o["currency"], "USD");
    assert_eq!(
        (
            &o["revenue"]["total"],
            &o["revenue"]["this_month"],
            &o["revenue"]["paying_users"]
        ),
        (&json!(1999), &json!(1999), &json!(1))
    );
    assert_eq!(o["top_features"][0]["name"], "report_built");
    assert_eq!(o["tokens_this_month"]["total_tokens"], 15);
    assert!(
        o.get("retention").is_some_and(|r| r.get("day7").is_some()),
        "{o}"
    );

    let viewer = app.as_role(Role::Viewer).await;
    let res = app.get(&viewer, &format!("{base}/crm/overview")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The people list shows each row's sessions, tags, priority and total spent (in the
/// reporting currency, converted at the payment's day; a payment without a
/// rate under `unconverted_spent`), on every page and with every filter.
async fn people_list_rows_carry_tags_priority_and_spent(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    people(
        &app,
        &p.write_key,
        &[("a1", "ana"), ("b1", "bob"), ("c1", "cy")],
    )
    .await;
    let base = format!("/api/v1/projects/{}", p.id);
    let secret = app.secret_key(&owner, &p.id, "billing").await;
    let day = vibe_core::day::ProjectTz::or_utc("UTC").day_of(app.clock.now_ms());
    let res = app
        .put(
            &owner,
            &format!("{base}/exchange-rates"),
            json!({"base": "USD", "rates": [{"day": day, "currency": "EUR", "rate": 0.5}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let pay = |id: &str, user: &str, amount: i64, currency: &str, status: &str| {
        json!({"type": "event", "id": uuid(), "user_id": user, "name": "payment",
            "props": {"payment_id": id, "amount": amount, "currency": currency, "status": status}})
    };
    let batch = json!({"batch": [
        pay("p1", "ana", 4900, "USD", "succeeded"),
        pay("p2", "ana", 1000, "EUR", "succeeded"),
        pay("p3", "ana", 700, "JPY", "succeeded"),
        pay("p4", "bob", 1900, "USD", "refunded"),
    ]});
    let res = app.post_bearer(&secret, "/api/v1/track", batch).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "{:?}", res.text().await);
    let res = app
        .patch(
            &owner,
            &format!("{base}/users/ana"),
            json!({"tags": ["vip", "beta"], "priority": "high"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .patch(
            &owner,
            &format!("{base}/users/cy"),
            json!({"priority": "low"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let listed = app.get_json(&owner, &format!("{base}/users")).await;
    assert_eq!(listed["currency"], "USD");
    let row = |body: &Value, user: &str| -> Value {
        list(body, "users")
            .iter()
            .find(|u| u["user_id"] == user)
            .cloned()
            .unwrap_or_else(|| panic!("{user} listed in {body}"))
    };
    let ana = row(&listed, "ana");
    assert_eq!(ana["total_sessions"], 1);
    assert_eq!(ana["tags"], json!(["beta", "vip"]));
    assert_eq!(ana["priority"], "high");
    // $49 + €10 at 0.5 € per $ = $69; the yen have no rate.
    assert_eq!(ana["total_spent"], 6900);
    assert_eq!(
        ana["unconverted_spent"],
        json!([{"currency": "JPY", "amount": 700}])
    );
    // The same numbers as the profile's.
    let profile = app.get_json(&owner, &format!("{base}/users/ana")).await;
    assert_eq!(profile["total_spent"], ana["total_spent"]);
    assert_eq!(profile["unconverted_spent"], ana["unconverted_spent"]);
    let bob = row(&listed, "bob");
    assert_eq!(
        (&bob["tags"], &bob["priority"], &bob["total_spent"]),
        (&json!([]), &Value::Null, &json!(0)),
        "a refunded payment is not spent"
    );
    let cy = row(&listed, "cy");
    assert_eq!((&cy["tags"], &cy["priority"]), (&json!([]), &json!("low")));
    assert_eq!(cy["unconverted_spent"], json!([]));
    // Bob's payment came from a server (no session): sessions are the
    // browser's only.
    assert_eq!(bob["total_sessions"], 1);

    // Filtered and paged lists carry them too.
    let vip = app.get_json(&owner, &format!("{base}/users?tag=vip")).await;
    assert_eq!(row(&vip, "ana")["total_spent"], 6900);
    let first = app.get_json(&owner, &format!("{base}/users?limit=1")).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut seen = list(&first, "users").to_vec();
    let rest = app
        .get_json(&owner, &format!("{base}/users?limit=2&cursor={cursor}"))
        .await;
    seen.extend(list(&rest, "users").iter().cloned());
    let paged = json!({ "users": seen });
    assert_eq!(row(&paged, "ana")["tags"], json!(["beta", "vip"]));
    assert_eq!(row(&paged, "cy")["priority"], "low");
}

crate::on_both_backends!(
    people_list_rows_carry_tags_priority_and_spent,
    overview_sums_up_the_crm,
    timeline_pages_and_refuses_foreign_cursors,
    agents_edit_contacts_and_delete_only_their_own_notes,
    contact_fields_tags_and_filters,
    contact_validation_names_the_field,
    notes_list_add_and_delete,
    viewers_read_and_other_tenants_see_nothing,
);
