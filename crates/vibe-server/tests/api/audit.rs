//! `/api/v1/projects/{id}/audit-log` and the rows settings changes write:
//! one row per change naming the actor, action, resource, redacted params and
//! client address; filters and keyset pages; admins only (lower roles 403,
//! non-members 404); one project's rows never reach another's log.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;

fn log_path(pid: &str) -> String {
    format!("/api/v1/projects/{pid}/audit-log")
}

async fn entries(app: &TestApp, who: &Session, pid: &str, query: &str) -> Vec<Value> {
    let page = app
        .get_json(who, &format!("{}?{query}", log_path(pid)))
        .await;
    list(&page, "entries").to_vec()
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn settings_changes_write_one_redacted_row_each(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let pid = &project.id;
    let owner_id = app.account_id(&owner).await;
    assert!(entries(&app, &owner, pid, "").await.is_empty());

    // A project settings change: one row, as the owner, from the loopback.
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"name": "Renamed shop", "timezone": "Europe/Berlin", "currency": "EUR"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rows = entries(&app, &owner, pid, "").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["action"], "project.update");
    assert_eq!(row["resource"], "project");
    assert_eq!(row["actor"]["account_id"], owner_id.as_str());
    assert_eq!(row["actor"]["email"], OWNER_EMAIL);
    assert_eq!(
        row["params"],
        json!({"name": "Renamed shop", "timezone": "Europe/Berlin", "currency": "EUR"})
    );
    assert_eq!(row["ip"], "127.0.0.1");
    assert!(row["at"].as_i64().unwrap() > 0);
    assert!(row["id"].as_str().is_some_and(|id| !id.is_empty()));

    // A refused change writes nothing.
    let bad = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"timezone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(entries(&app, &owner, pid, "").await.len(), 1);

    // Secrets: a channel's password, a key's secret, the identity secret.
    let email = json!({"smtp_host": "smtp.example.com", "smtp_port": 587, "tls": "starttls",
        "username": "help", "password": "smtp-password-secret", "from_address": "help@example.com"});
    app.clock.advance_ms(1_000);
    let res = app
        .put(
            &owner,
            &format!("/api/v1/projects/{pid}/channels/email"),
            email,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // One change a second, so the order by time is the order made.
    app.clock.advance_ms(1_000);
    let key = app.mint_key(&owner, pid, "Server").await;
    let key_secret = string_at(&key, "secret");
    let key_id = key["key"]["id"].as_str().unwrap().to_owned();
    app.clock.advance_ms(1_000);
    let rotated = app
        .post_json(
            &owner,
            &format!("/api/v1/projects/{pid}/identity-secret"),
            json!({}),
        )
        .await;
    let identity_secret = string_at(&rotated, "secret");
    app.clock.advance_ms(1_000);
    let res = app
        .delete(&owner, &format!("/api/v1/projects/{pid}/keys/{key_id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let rows = entries(&app, &owner, pid, "").await;
    assert_eq!(
        actions(&rows),
        [
            "key.revoke",
            "identity_secret.rotate",
            "key.create",
            "channel.update",
            "project.update"
        ]
    );
    let channel = &rows[3];
    assert_eq!(channel["resource"], "channel/email");
    assert_eq!(channel["params"]["config"]["smtp_host"], "smtp.example.com");
    assert_eq!(channel["params"]["rotated_fields"], json!(["password"]));
    assert_eq!(channel["params"]["config"].get("password"), None);
    assert_eq!(rows[2]["resource"], format!("key/{key_id}"));
    assert_eq!(rows[2]["params"], json!({"name": "Server"}));
    assert_eq!(rows[0]["resource"], format!("key/{key_id}"));
    let text = serde_json::to_string(&rows).unwrap();
    for secret in ["smtp-password-secret", &key_secret, &identity_secret] {
        assert!(!text.contains(secret), "{secret} reached the audit log");
    }
}

/// A member change with every kind of row the page filters on.
async fn filters_and_cursor_pages(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let pid = &project.id;
    let base = format!("/api/v1/projects/{pid}");
    app.add_account("bob@example.com", Role::Viewer).await;
    let bob = session_from(app.login("bob@example.com", OWNER_PASSWORD).await);
    let bob_id = app.account_id(&bob).await;
    let member = format!("{base}/members/{bob_id}");
    // One change a second, so the order by time is the order made.
    let step = || app.clock.advance_ms(1_000);
    let t0 = app.clock.now_ms();
    let res = app.patch(&owner, &member, json!({"role": "admin"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    step();
    let team = created(
        app.post(&bob, &format!("{base}/teams"), json!({"name": "Sales"}))
            .await,
    )
    .await;
    let tid = string_at(&team, "id");
    step();
    let t_rename = app.clock.now_ms();
    let res = app
        .patch(
            &bob,
            &format!("{base}/teams/{tid}"),
            json!({"name": "Sales EU"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    step();
    let seg = json!({"name": "VIP", "criteria": {"field": "tag", "op": "has", "value": "vip"}});
    let seg = created(app.post(&owner, &format!("{base}/segments"), seg).await).await;
    step();
    let sla = json!({"first_response_target_s": 60, "resolution_target_s": 3600});
    let res = app
        .put(&owner, &format!("{base}/sla-policies/urgent"), sla)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    step();
    let res = app.delete(&owner, &format!("{base}/teams/{tid}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let all = entries(&app, &owner, pid, "").await;
    let expected = [
        "team.delete",
        "sla_policy.put",
        "segment.create",
        "team.rename",
        "team.create",
        "member.role_change",
    ];
    assert_eq!(actions(&all), expected);
    assert_eq!(all[5]["resource"], format!("member/{bob_id}"));
    assert_eq!(
        all[5]["params"],
        json!({"role": "admin", "email": "bob@example.com", "previous_role": "viewer"})
    );
    assert_eq!(all[4]["actor"]["email"], "bob@example.com");
    assert_eq!(
        all[2]["resource"],
        format!("segment/{}", string_at(&seg, "id"))
    );
    assert_eq!(all[1]["resource"], "sla-policy/urgent");

    // Pages of two walk the same rows in the same order, then stop.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page = app
            .get_json(&owner, &format!("{}?{q}", log_path(pid)))
            .await;
        assert!(list(&page, "entries").len() <= 2);
        walked.extend(actions(list(&page, "entries")));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(walked, expected);

    // Filters: by actor id or email, action, resource prefix, time.
    let by = |q: String| {
        let (app, owner) = (&app, &owner);
        async move { actions(&entries(app, owner, pid, &q).await) }
    };
    assert_eq!(
        by(format!("actor={bob_id}")).await,
        ["team.rename", "team.create"]
    );
    assert_eq!(
        by("actor=Bob@Example.com".into()).await,
        ["team.rename", "team.create"]
    );
    assert_eq!(by("action=segment.create".into()).await, ["segment.create"]);
    assert_eq!(
        by("resource=team/".into()).await,
        ["team.delete", "team.rename", "team.create"]
    );
    assert_eq!(
        by(format!("from={t_rename}&to={}", t_rename + 2_000)).await,
        ["segment.create", "team.rename"]
    );
    let iso = jiff::Timestamp::from_millisecond(t0 + 500)
        .unwrap()
        .to_string();
    assert_eq!(by(format!("to={iso}")).await, ["member.role_change"]);
    assert_eq!(
        by(format!("actor={bob_id}&action=team.create")).await,
        ["team.create"]
    );
    assert!(by("action=nothing.like.this".into()).await.is_empty());

    // Bad query values answer 400 naming the field.
    for (q, field) in [
        ("cursor=garbage", "cursor"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("from=yesterday", "from"),
        ("from=2000&to=1000", "from"),
    ] {
        let res = app.get(&owner, &format!("{}?{q}", log_path(pid))).await;
        assert_invalid(res, field).await;
    }
}

async fn admins_only_and_no_other_projects_rows(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let pid = &project.id;
    let path = log_path(pid);
    for role in [Role::Viewer, Role::Agent, Role::Supervisor] {
        let who = app.as_role(role).await;
        let res = app.get(&who, &path).await;
        assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    }
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(app.get(&admin, &path).await.status(), StatusCode::OK);

    // Project B: its own change; A's admin is not a member of it.
    let b = app.create_project(&owner, "Bravo").await;
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{}", b.id),
            json!({"name": "Bravo secret name"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.get(&admin, &log_path(&b.id)).await;
    let body = assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(!body.to_string().contains("Bravo"));
    // A filter naming B's row from A's log finds nothing.
    app.patch(
        &owner,
        &format!("/api/v1/projects/{pid}"),
        json!({"name": "Alpha"}),
    )
    .await;
    let a_rows = entries(&app, &admin, pid, "").await;
    assert_eq!(actions(&a_rows), ["project.update"]);
    assert_eq!(a_rows[0]["params"], json!({"name": "Alpha"}));
    assert!(
        entries(&app, &admin, pid, "resource=project&action=project.update")
            .await
            .iter()
            .all(|e| e["params"]["name"] == "Alpha")
    );
    // B's log holds B's row only.
    let b_rows = entries(&app, &owner, &b.id, "").await;
    assert_eq!(actions(&b_rows), ["project.update"]);
    assert_eq!(b_rows[0]["params"], json!({"name": "Bravo secret name"}));
    // An unknown project is a 404 too.
    let res = app.get(&owner, &log_path("no-such-project")).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

/// The documented policy: a change whose audit row cannot be written answers
/// 500 (the change itself is stored; the caller learns it went unrecorded).
async fn a_failed_audit_write_answers_500(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let pid = &project.id;
    let db = app.state.store.db();
    db.execute("ALTER TABLE audit_log RENAME TO audit_log_away", ())
        .await
        .expect("rename");
    let res = app
        .patch(
            &owner,
            &format!("/api/v1/projects/{pid}"),
            json!({"name": "Unlogged"}),
        )
        .await;
    assert_error(res, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
    let now = app
        .get_json(&owner, &format!("/api/v1/projects/{pid}"))
        .await;
    assert_eq!(now["name"], "Unlogged");
    db.execute("ALTER TABLE audit_log_away RENAME TO audit_log", ())
        .await
        .expect("rename back");
    assert!(entries(&app, &owner, pid, "").await.is_empty());
}

/// Every audited route not covered above writes its own action, once.
async fn every_audited_route_records_its_action(backend: Backend) {
    let Some((app, owner, project)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", project.id);
    let at = |p: &str| format!("{base}{p}");
    let owner_id = app.account_id(&owner).await;
    // Like every new account, Carol starts in the default project: out, then back in.
    app.add_account("carol@example.com", Role::Viewer).await;
    let ok = |res: reqwest::Response| async move {
        let status = res.status();
        assert!(
            status.is_success(),
            "{status}: {}",
            res.text().await.unwrap()
        );
        status
    };
    let members = app.get_json(&owner, &at("/members")).await;
    let carol_id = list(&members, "members")
        .iter()
        .find(|m| m["email"] == "carol@example.com")
        .map(|m| string_at(m, "account_id"))
        .expect("carol is a member");
    ok(app
        .delete(&owner, &at(&format!("/members/{carol_id}")))
        .await)
    .await;
    let back = json!({"email": "carol@example.com", "role": "agent"});
    created(app.post(&owner, &at("/members"), back).await).await;
    ok(app
        .put(&owner, &at("/channels/in_app"), json!({"enabled": true}))
        .await)
    .await;
    let inbox = created(
        app.post(
            &owner,
            &at("/inboxes"),
            json!({"name": "Support", "channel": "email"}),
        )
        .await,
    )
    .await;
    let iid = string_at(&inbox, "id");
    let automation = json!({"rules": [], "away_reply": {"enabled": false, "body": "Back soon"}});
    ok(app
        .put(
            &owner,
            &at(&format!("/inboxes/{iid}/automation")),
            automation,
        )
        .await)
    .await;
    let team = created(
        app.post(&owner, &at("/teams"), json!({"name": "Tier 1"}))
            .await,
    )
    .await;
    let tid = string_at(&team, "id");
    let team_member = at(&format!("/teams/{tid}/members/{owner_id}"));
    ok(app.put(&owner, &team_member, json!({})).await).await;
    ok(app.delete(&owner, &team_member).await).await;
    let sla = json!({"first_response_target_s": 60, "resolution_target_s": 3600});
    ok(app.put(&owner, &at("/sla-policies/high"), sla).await).await;
    ok(app.delete(&owner, &at("/sla-policies/high")).await).await;
    let rates = json!({"rates": [{"day": "2027-01-15", "currency": "USD", "rate": 1.08}]});
    ok(app.put(&owner, &at("/exchange-rates"), rates).await).await;
    let seg = json!({"name": "Tagged", "criteria": {"field": "tag", "op": "has", "value": "a"}});
    let sid = string_at(
        &created(app.post(&owner, &at("/segments"), seg.clone()).await).await,
        "id",
    );
    ok(app.put(&owner, &at(&format!("/segments/{sid}")), seg).await).await;
    ok(app.delete(&owner, &at(&format!("/segments/{sid}"))).await).await;
    let flow = json!({"name": "Onboarding", "start": {"match": "event", "value": "go"},
        "complete": {"match": "event", "value": "done"}});
    let fid = string_at(
        &created(app.post(&owner, &at("/flows"), flow.clone()).await).await,
        "id",
    );
    ok(app.put(&owner, &at(&format!("/flows/{fid}")), flow).await).await;
    ok(app.delete(&owner, &at(&format!("/flows/{fid}"))).await).await;
    let funnel = json!({"name": "Checkout", "window_days": 7, "steps": [
        {"match": "page", "value": "/"}, {"match": "event", "value": "buy"}]});
    let nid = string_at(
        &created(app.post(&owner, &at("/funnels"), funnel.clone()).await).await,
        "id",
    );
    ok(app
        .put(&owner, &at(&format!("/funnels/{nid}")), funnel)
        .await)
    .await;
    ok(app.delete(&owner, &at(&format!("/funnels/{nid}"))).await).await;

    // Each exactly once (compared sorted: rows of one millisecond order by id,
    // not by when they were made; `filters_and_cursor_pages` checks order).
    let mut recorded = actions(&entries(&app, &owner, &project.id, "limit=200").await);
    recorded.sort();
    let mut expected = vec![
        "member.remove",
        "member.add",
        "channel.update",
        "inbox.create",
        "inbox.automation_update",
        "team.create",
        "team.member_add",
        "team.member_remove",
        "sla_policy.put",
        "sla_policy.delete",
        "exchange_rates.put",
        "segment.create",
        "segment.update",
        "segment.delete",
        "flow.create",
        "flow.update",
        "flow.delete",
        "funnel.create",
        "funnel.update",
        "funnel.delete",
    ];
    expected.sort();
    assert_eq!(recorded, expected);
    let removed = entries(&app, &owner, &project.id, "action=member.remove").await;
    assert_eq!(removed[0]["resource"], format!("member/{carol_id}"));
    assert_eq!(
        removed[0]["params"],
        json!({"email": "carol@example.com", "role": "viewer"})
    );
    let added = entries(&app, &owner, &project.id, "action=member.add").await;
    assert_eq!(added[0]["resource"], format!("member/{carol_id}"));
    assert_eq!(
        added[0]["params"],
        json!({"email": "carol@example.com", "role": "agent"})
    );
    let team_rows = entries(&app, &owner, &project.id, &format!("resource=team/{tid}")).await;
    assert_eq!(team_rows[0]["params"], json!({"account_id": owner_id}));
}

crate::on_both_backends!(
    settings_changes_write_one_redacted_row_each,
    filters_and_cursor_pages,
    admins_only_and_no_other_projects_rows,
    a_failed_audit_write_answers_500,
    every_audited_route_records_its_action,
);
