//! Message templates (issue 14 item 1): CRUD with each channel's parts; a
//! name unique per project (409); validation naming the field, and the line
//! of a template error (422); previews for a real contact of the project
//! (traits rendered, escaped in HTML and not in text, text derived from the
//! HTML), for a sample and for an unsaved draft; another project's template
//! or contact is 404; roles (viewers and agents read and preview, only
//! supervisors and above write).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;
use crate::on_both_backends;

fn welcome() -> Value {
    json!({
        "name": "Welcome",
        "channel": "email",
        "subject": "Welcome, {{ contact.name }} <3",
        "body_html": "<h1>Hi {{ contact.name }}</h1>\n<p>Plan: {{ contact.traits.plan | upper }}. {{ contact.traits.bio }}</p>\n<p><a href=\"https://shop.example/start\">Get started</a> · <a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
    })
}

async fn create(app: &TestApp, who: &Session, pid: &str, body: Value) -> Value {
    created(
        app.post(who, &format!("/api/v1/projects/{pid}/templates"), body)
            .await,
    )
    .await
}

async fn templates_crud(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/templates", p.id);
    let supervisor = app.as_role(Role::Supervisor).await;
    let t = create(&app, &supervisor, &p.id, welcome()).await;
    let tid = t["id"].as_str().unwrap().to_owned();
    assert_eq!(t["name"], "Welcome");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["subject"], welcome()["subject"]);
    assert_eq!(t["body_html"], welcome()["body_html"]);
    assert_eq!(t["body_text"], Value::Null);
    assert_eq!(t["push"], Value::Null);
    assert_eq!(
        t["created_by_account_id"].as_str(),
        Some(app.account_id(&supervisor).await.as_str())
    );

    let push = json!({"name": "Sale push", "channel": "push", "push": {
        "title": "Sale, {{ contact.name }}", "body": "20% off", "url": "https://shop.example/sale",
        "icon": "https://shop.example/icon.png"}});
    let pt = create(&app, &owner, &p.id, push).await;
    assert_eq!(
        pt["push"],
        json!({"title": "Sale, {{ contact.name }}", "body": "20% off",
            "url": "https://shop.example/sale", "icon": "https://shop.example/icon.png"})
    );
    let in_app = json!({"name": "Nudge", "channel": "in_app", "subject": "Psst", "body_text": "Hi {{ contact.name }}"});
    create(&app, &owner, &p.id, in_app).await;
    let wa = json!({"name": "WA", "channel": "whatsapp", "body_text": "Hi {{ contact.name }}"});
    create(&app, &owner, &p.id, wa).await;

    let list = app.get_json(&owner, &base).await;
    let names: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Nudge", "Sale push", "WA", "Welcome"]);
    assert_eq!(app.get_json(&owner, &format!("{base}/{tid}")).await, t);

    // The same name again: 409 naming the field.
    let res = app.post(&owner, &base, welcome()).await;
    assert_field_error(res, StatusCode::CONFLICT, "name_taken", "name").await;

    // A replace: new parts, same id, author and creation time.
    app.clock.advance_ms(5_000);
    let mut changed = welcome();
    changed["name"] = json!("Welcome v2");
    changed["body_text"] = json!("Hi {{ contact.name }}");
    let res = app
        .put(&supervisor, &format!("{base}/{tid}"), changed)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let u: Value = res.json().await.unwrap();
    assert_eq!(u["name"], "Welcome v2");
    assert_eq!(u["body_text"], "Hi {{ contact.name }}");
    assert_eq!(u["created_at"], t["created_at"]);
    assert_eq!(u["created_by_account_id"], t["created_by_account_id"]);
    // The test clock runs in real time plus what the test moved it.
    assert!(u["updated_at"].as_i64().unwrap() >= t["updated_at"].as_i64().unwrap() + 5_000);
    // Renaming onto another template's name: 409.
    let mut clash = welcome();
    clash["name"] = json!("Nudge");
    let res = app.put(&owner, &format!("{base}/{tid}"), clash).await;
    assert_field_error(res, StatusCode::CONFLICT, "name_taken", "name").await;

    // Writes are audited with the name and channel only.
    let log = app
        .get_json(&owner, &format!("/api/v1/projects/{}/audit-log", p.id))
        .await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("template."))
        .collect();
    assert_eq!(actions.len(), 5, "{log}");
    assert_eq!(actions[0], "template.update");

    let res = app.delete(&supervisor, &format!("{base}/{tid}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app.get(&owner, &format!("{base}/{tid}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.delete(&owner, &format!("{base}/{tid}")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let list = app.get_json(&owner, &base).await;
    assert_eq!(list["templates"].as_array().unwrap().len(), 3);
}

async fn template_validation_names_field_and_line(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}/templates", p.id);
    for (body, field) in [
        (
            json!({"channel": "email", "subject": "s", "body_text": "b"}),
            "name",
        ),
        (
            json!({"name": "x", "channel": "fax", "subject": "s", "body_text": "b"}),
            "channel",
        ),
        (
            json!({"name": "x", "channel": "email", "body_text": "b"}),
            "subject",
        ),
        (
            json!({"name": "x", "channel": "email", "subject": "s"}),
            "body_html",
        ),
        (
            json!({"name": "x", "channel": "push", "push": {"title": "t"}}),
            "push.body",
        ),
        (
            json!({"name": "x", "channel": "push", "push": {"title": "t", "body": "b", "url": "ftp://x"}}),
            "push.url",
        ),
        (
            json!({"name": "x", "channel": "push", "body_text": "b", "push": {"title": "t", "body": "b"}}),
            "body_text",
        ),
        (
            json!({"name": "x", "channel": "email", "subject": "s", "body_text": "b", "color": "red"}),
            "color",
        ),
    ] {
        let res = app.post(&owner, &base, body.clone()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        let v = json_of(res).await;
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }

    // Template errors: 422 `invalid_template`, the field, and the line.
    for (field, source, line, says) in [
        // An unclosed block: MiniJinja names the line that opened it.
        (
            "body_html",
            "<p>Hi</p>\n<p>{% if contact.name %}\nthere</p>",
            2,
            "syntax error",
        ),
        (
            "body_html",
            "<p>Hi</p>\n\n<p>{{ contact.name }</p>",
            3,
            "syntax error",
        ),
        ("subject", "Hello {{ contact.name", 1, "syntax error"),
        (
            "body_html",
            "<p>\n{{ contact.name | shout }}</p>",
            2,
            "unknown filter `shout`",
        ),
        (
            "body_text",
            "{% if false %}\n\n{{ contact.traits.bio | safe }}{% endif %}",
            3,
            "unknown filter `safe`",
        ),
        (
            "body_text",
            "Hi\n{{ contakt.name }}",
            2,
            "unknown variable `contakt`",
        ),
    ] {
        let mut body = json!({"name": "x", "channel": "email", "subject": "s", "body_text": "b"});
        body[field] = json!(source);
        let res = app.post(&owner, &base, body).await;
        let err = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_template").await;
        assert_eq!(err["field"], field, "{source}: {err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("line {line}")),
            "{source}: {message}"
        );
        assert!(message.contains(says), "{source}: {message}");
    }
    // In a push part, named by its path.
    let body = json!({"name": "x", "channel": "push", "push": {"title": "t", "body": "a\n{{ data.x | nope }}"}});
    let err = assert_error(
        app.post(&owner, &base, body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_template",
    )
    .await;
    assert_eq!(err["field"], "push.body");
    assert!(err["message"].as_str().unwrap().contains("line 2"), "{err}");

    // An update is checked the same way and changes nothing when refused.
    let t = create(&app, &owner, &p.id, welcome()).await;
    let one = format!("{base}/{}", t["id"].as_str().unwrap());
    let mut bad = welcome();
    bad["body_html"] = json!("<p>\n\n{% for x in data.items %}");
    let err = assert_error(
        app.put(&owner, &one, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_template",
    )
    .await;
    assert_eq!(err["field"], "body_html");
    assert!(err["message"].as_str().unwrap().contains("line "), "{err}");
    assert_eq!(app.get_json(&owner, &one).await, t);
    // Not JSON, or not an object.
    let res = app.put(&owner, &one, json!(["a"])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

/// A person with a plan and a script-looking bio, identified through the
/// public tracker (where any visitor can set their own traits).
async fn ada(app: &TestApp, write_key: &str) {
    let traits = json!({"name": "Ada", "email": "ada@example.com", "plan": "pro",
        "bio": "<script>alert('x')</script> & co"});
    app.collect_ok(
        write_key,
        vec![identify("ada-anon", "ada-s", "ada", traits)],
    )
    .await;
}

async fn preview_renders_contact_traits_and_escapes_html_only(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    ada(&app, &p.write_key).await;
    let t = create(&app, &owner, &p.id, welcome()).await;
    let preview = format!(
        "/api/v1/projects/{}/templates/{}/preview",
        p.id,
        t["id"].as_str().unwrap()
    );
    let viewer = app.as_role(Role::Viewer).await;
    let res = app
        .post(&viewer, &preview, json!({"contact_id": "ada"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["channel"], "email");
    assert_eq!(r["subject"], "Welcome, Ada <3", "the subject is not HTML");
    let html = r["html"].as_str().unwrap();
    assert!(html.contains("<h1>Hi Ada</h1>"), "{html}");
    assert!(html.contains("Plan: PRO."), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; co"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    let unsubscribe = r["unsubscribe_url"].as_str().unwrap();
    assert!(
        unsubscribe.ends_with("/unsubscribe/preview"),
        "{unsubscribe}"
    );
    // No text part: derived from the HTML, links kept, the bio as written.
    assert_eq!(r["text_derived"], true);
    assert_eq!(
        r["text"],
        format!("Hi Ada\nPlan: PRO. <script>alert('x')</script> & co\nGet started (https://shop.example/start) · Unsubscribe ({unsubscribe})")
    );
    assert_eq!(r["contact"]["email"], "ada@example.com");
    assert_eq!(r["contact"]["traits"]["plan"], "pro");

    // A text part of its own is rendered, not escaped.
    let mut with_text = welcome();
    with_text["name"] = json!("With text");
    with_text["body_text"] =
        json!("{{ contact.traits.bio }} / {{ data.coupon | default('none') }}");
    let t2 = create(&app, &owner, &p.id, with_text).await;
    let preview2 = format!(
        "/api/v1/projects/{}/templates/{}/preview",
        p.id,
        t2["id"].as_str().unwrap()
    );
    // The anonymous id finds the same person.
    let r = app
        .post_json(
            &owner,
            &preview2,
            json!({"contact_id": "ada-anon", "data": {"coupon": "SAVE<10>"}}),
        )
        .await;
    assert_eq!(r["text"], "<script>alert('x')</script> & co / SAVE<10>");
    assert_eq!(r["text_derived"], false);

    // A sample instead of a contact: missing traits print as nothing.
    let r = app
        .post_json(
            &owner,
            &preview,
            json!({"sample": {"name": "<b>Sam</b>", "traits": {"plan": "free"}}}),
        )
        .await;
    assert_eq!(r["subject"], "Welcome, <b>Sam</b> <3");
    assert!(
        r["html"]
            .as_str()
            .unwrap()
            .contains("Hi &lt;b&gt;Sam&lt;&#x2f;b&gt;"),
        "{r}"
    );
    assert!(
        r["html"].as_str().unwrap().contains("Plan: FREE. </p>"),
        "{r}"
    );
    // Neither: the built-in sample.
    let r = app.post_json(&owner, &preview, json!({})).await;
    assert_eq!(r["subject"], "Welcome, Sample Contact <3");

    // Refusals.
    let res = app
        .post(&owner, &preview, json!({"contact_id": "nobody"}))
        .await;
    assert_field_error(res, StatusCode::NOT_FOUND, "not_found", "contact_id").await;
    let res = app
        .post(
            &owner,
            &preview,
            json!({"contact_id": "ada", "sample": {"name": "x"}}),
        )
        .await;
    assert_invalid(res, "sample").await;
    let res = app
        .post(&owner, &preview, json!({"sample": {"nickname": "x"}}))
        .await;
    assert_invalid(res, "sample.nickname").await;
    let res = app.post(&owner, &preview, json!({"data": [1]})).await;
    assert_invalid(res, "data").await;
    let res = app.post(&owner, &preview, json!({"extra": 1})).await;
    assert_invalid(res, "extra").await;

    // A render-time error names the part and line too.
    let push = json!({"name": "Push", "channel": "push",
        "push": {"title": "T", "body": "B", "url": "{{ data.url }}"}});
    let pt = create(&app, &owner, &p.id, push).await;
    let ppath = format!(
        "/api/v1/projects/{}/templates/{}/preview",
        p.id,
        pt["id"].as_str().unwrap()
    );
    let r = app
        .post_json(
            &owner,
            &ppath,
            json!({"data": {"url": "https://shop.example/x"}}),
        )
        .await;
    assert_eq!(
        r["push"],
        json!({"title": "T", "body": "B", "url": "https://shop.example/x", "icon": null})
    );
    let res = app
        .post(
            &owner,
            &ppath,
            json!({"data": {"url": "javascript:alert(1)"}}),
        )
        .await;
    assert_field_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_template",
        "push.url",
    )
    .await;
}

async fn draft_preview_checks_like_a_save(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    ada(&app, &p.write_key).await;
    let path = format!("/api/v1/projects/{}/templates/preview", p.id);
    let r = app
        .post_json(
            &owner,
            &path,
            json!({"template": welcome(), "contact_id": "ada"}),
        )
        .await;
    assert_eq!(r["subject"], "Welcome, Ada <3");
    // Nothing was saved.
    let list = app
        .get_json(&owner, &format!("/api/v1/projects/{}/templates", p.id))
        .await;
    assert_eq!(list["templates"], json!([]));
    let mut bad = welcome();
    bad["body_html"] = json!("<p>\n{{ contact.name | nope }}");
    let res = app.post(&owner, &path, json!({"template": bad})).await;
    let err = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid_template").await;
    assert_eq!(err["field"], "template.body_html");
    assert!(err["message"].as_str().unwrap().contains("line 2"), "{err}");
    let res = app.post(&owner, &path, json!({"contact_id": "ada"})).await;
    assert_field_error(res, StatusCode::BAD_REQUEST, "missing_field", "template").await;
}

async fn templates_roles_and_tenants(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    ada(&app, &p.write_key).await;
    let base = format!("/api/v1/projects/{}/templates", p.id);
    let t = create(&app, &owner, &p.id, welcome()).await;
    let one = format!("{base}/{}", t["id"].as_str().unwrap());
    let preview = format!("{one}/preview");
    let draft = format!("{base}/preview");

    for role in [Role::Viewer, Role::Agent] {
        let who = app.as_role(role).await;
        // Reads and the saved preview are allowed.
        assert_eq!(
            app.get(&who, &base).await.status(),
            StatusCode::OK,
            "{role:?}"
        );
        assert_eq!(
            app.get(&who, &one).await.status(),
            StatusCode::OK,
            "{role:?}"
        );
        let res = app.post(&who, &preview, json!({"contact_id": "ada"})).await;
        assert_eq!(res.status(), StatusCode::OK, "{role:?}");
        // Writes and drafts are not.
        assert_refused(
            &app,
            &who,
            (StatusCode::FORBIDDEN, "forbidden"),
            vec![
                (Method::POST, base.clone(), Some(welcome())),
                (Method::PUT, one.clone(), Some(welcome())),
                (Method::DELETE, one.clone(), None),
                (
                    Method::POST,
                    draft.clone(),
                    Some(json!({"template": welcome()})),
                ),
            ],
        )
        .await;
    }
    assert_eq!(app.get_json(&owner, &one).await, t);

    // Another project: its owner (the same account) does not find this
    // project's template or contact there, and a non-member of this project
    // gets 404 here.
    let other = app.create_project(&owner, "Other shop").await;
    let obase = format!("/api/v1/projects/{}/templates", other.id);
    let tid = t["id"].as_str().unwrap();
    for (method, path, body) in [
        (Method::GET, format!("{obase}/{tid}"), None),
        (Method::PUT, format!("{obase}/{tid}"), Some(welcome())),
        (Method::DELETE, format!("{obase}/{tid}"), None),
        (
            Method::POST,
            format!("{obase}/{tid}/preview"),
            Some(json!({})),
        ),
    ] {
        let res = app.call(&owner, method.clone(), &path, body).await;
        assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    }
    assert_eq!(app.get_json(&owner, &obase).await["templates"], json!([]));
    // The other project's own template cannot preview this project's contact.
    let ot = create(&app, &owner, &other.id, welcome()).await;
    let res = app
        .post(
            &owner,
            &format!("{obase}/{}/preview", ot["id"].as_str().unwrap()),
            json!({"contact_id": "ada"}),
        )
        .await;
    assert_field_error(res, StatusCode::NOT_FOUND, "not_found", "contact_id").await;
    let res = app
        .post(
            &owner,
            &format!("{obase}/preview"),
            json!({"template": welcome(), "contact_id": "ada"}),
        )
        .await;
    assert_field_error(res, StatusCode::NOT_FOUND, "not_found", "contact_id").await;
    // The same name in another project is allowed (created above) and
    // deleting it leaves this project's.
    let res = app
        .delete(&owner, &format!("{obase}/{}", ot["id"].as_str().unwrap()))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_json(&owner, &one).await, t);

    // A supervisor of this project only is not a member of the other one.
    let supervisor = app.as_role(Role::Supervisor).await;
    let res = app.get(&supervisor, &obase).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app.post(&supervisor, &obase, welcome()).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

on_both_backends!(
    templates_crud,
    template_validation_names_field_and_line,
    preview_renders_contact_traits_and_escapes_html_only,
    draft_preview_checks_like_a_save,
    templates_roles_and_tenants,
);
