use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// A visitor who views a page and signs in as `user`.
async fn sign_in_visitor(app: &TestApp, key: &str, anon: &str, user: &str, traits: Value) {
    let session = format!("s-{anon}");
    let visit = pageview(anon, &session, "https://shop.example/");
    let identified = identify(anon, &session, user, traits);
    app.collect_ok(key, vec![visit, identified]).await;
}

async fn users_list_filters_searches_and_pages(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let people = [
        (
            "a1",
            "ana",
            json!({"email": "ana@example.com", "name": "Ana", "plan": "premium"}),
        ),
        (
            "b1",
            "bob",
            json!({"email": "bob@example.com", "plan": "trial"}),
        ),
    ];
    for (anon, user, traits) in people {
        sign_in_visitor(&app, &p.write_key, anon, user, traits).await;
    }
    app.collect_ok(&p.write_key, vec![pageview("anon-only", "s-x", "/")])
        .await;

    let users_where = |q: &str| {
        let path = format!("/api/v1/projects/{}/users?{q}", p.id);
        let (app, owner) = (&app, &owner);
        async move { app.get_json(owner, &path).await }
    };
    let body = users_where("segment=premium").await;
    let users = list(&body, "users");
    assert_eq!(users.len(), 1);
    assert_eq!(
        (
            users[0]["user_id"].as_str(),
            users[0]["email"].as_str(),
            users[0]["plan"].as_str()
        ),
        (Some("ana"), Some("ana@example.com"), Some("premium"))
    );
    assert_eq!(
        users_where("segment=trial").await["users"][0]["user_id"],
        "bob"
    );
    assert_eq!(list(&users_where("segment=active").await, "users").len(), 3);
    assert!(list(&users_where("segment=churned").await, "users").is_empty());
    assert_eq!(users_where("q=BOB").await["users"][0]["user_id"], "bob");

    // Pages of one, following next_cursor, visit everyone once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/projects/{}/users?limit=1&cursor={cursor}", p.id);
        let body = app.get_json(&owner, &path).await;
        seen.extend(list(&body, "users").iter().map(|u| string_at(u, "id")));
        match body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["a1", "anon-only", "b1"]);

    for (q, field) in [
        ("segment=vip", "segment"),
        ("sort=name", "sort"),
        ("cursor=zz", "cursor"),
        ("limit=0", "limit"),
    ] {
        let path = format!("/api/v1/projects/{}/users?{q}", p.id);
        assert_invalid(app.get(&owner, &path).await, field).await;
    }
}

async fn profile_and_sessions_of_a_user(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let now = app.clock.now_ms();
    let page = |url: &str, title: &str, ts: i64| {
        message(
            "pageview",
            "anon-5",
            "s1",
            json!({"url": url, "title": title, "ts": ts}),
        )
    };
    let batch = vec![
        page("https://x.io/", "Home", now - 2000),
        page("https://x.io/pricing", "Pricing", now - 1000),
        identify("anon-5", "s1", "u-5", json!({"email": "five@example.com"})),
    ];
    app.collect_ok(&p.write_key, batch).await;
    for uid in ["u-5", "anon-5"] {
        let res = app
            .get(&owner, &format!("/api/v1/projects/{}/users/{uid}", p.id))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let u = json_of(res).await;
        assert_eq!(
            (u["user_id"].as_str(), u["email"].as_str()),
            (Some("u-5"), Some("five@example.com"))
        );
        assert_eq!(
            (u["total_sessions"].as_i64(), u["total_events"].as_i64()),
            (Some(1), Some(3))
        );
        assert_eq!(u["browser"], "Chrome");
    }
    let sessions = format!("/api/v1/projects/{}/users/u-5/sessions", p.id);
    let body = app.get_json(&owner, &sessions).await;
    let s = &body["sessions"][0];
    assert_eq!(s["active"], true);
    assert_eq!(s["ended_at"], Value::Null);
    let paths: Vec<String> = list(s, "pages")
        .iter()
        .map(|v| string_at(v, "path"))
        .collect();
    assert_eq!(paths, ["/", "/pricing"]);

    // After the online window it shows as ended.
    app.clock.advance_ms(10 * 60_000);
    let body = app.get_json(&owner, &sessions).await;
    assert_eq!(body["sessions"][0]["active"], false);
    assert!(body["sessions"][0]["ended_at"].as_i64().is_some());

    let nobody = format!("/api/v1/projects/{}/users/nobody", p.id);
    let res = app.get(&owner, &nobody).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

async fn csv_exports_are_escaped_and_complete(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let traits = json!({"name": "Smith, \"Bobby\"", "email": "@evil"});
    sign_in_visitor(&app, &p.write_key, "evil", "=cmd|' /C calc'!A0", traits).await;
    // Enough people for several pages of the streamed export.
    for chunk in (0..2100).collect::<Vec<_>>().chunks(500) {
        let batch = chunk
            .iter()
            .map(|i| pageview(&format!("bulk-{i}"), &format!("s{i}"), "/"))
            .collect();
        app.collect_ok(&p.write_key, batch).await;
    }
    let res = app
        .get(
            &owner,
            &format!("/api/v1/projects/{}/export/users.csv", p.id),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"vibe-users-all-20")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "user_id,anonymous_id,email,name,plan,first_seen,last_seen,total_events,device,browser,os"
    );
    assert_eq!(lines.len(), 1 + 2101, "every person exactly once");
    let evil = lines.iter().find(|l| l.contains("evil,")).unwrap();
    assert!(
        evil.starts_with("'=cmd|' /C calc'!A0,evil,'@evil,\"Smith, \"\"Bobby\"\"\","),
        "{evil}"
    );

    let res = app
        .get(
            &owner,
            &format!(
                "/api/v1/projects/{}/export/metrics.csv?from=2026-01-01&to=2026-01-03",
                p.id
            ),
        )
        .await;
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("vibe-metrics-2026-01-01-to-2026-01-03-"));
    let text = res.text().await.unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.starts_with("date,active_users,new_users,sessions,pageviews,events,avg_session_s,bounce_rate\r\n2026-01-01,0,"));
}

crate::on_both_backends!(
    users_list_filters_searches_and_pages,
    profile_and_sessions_of_a_user,
    csv_exports_are_escaped_and_complete,
);
