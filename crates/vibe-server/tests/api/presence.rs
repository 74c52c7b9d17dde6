use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

async fn ingested_visitor_is_online_with_page_and_device(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    assert!(app.online_visitors(&owner, &p.id).await.is_empty());
    app.collect_ok(&p.write_key, vec![
        message("pageview", "anon-1", "s-1", json!({"url": "https://shop.example/", "referrer": "https://news.example/"})),
        message("pageview", "anon-1", "s-1", json!({"url": "https://shop.example/pricing?x=1", "title": "Pricing", "screen": {"w": 1920, "h": 1080}})),
    ])
    .await;
    let visitors = app.online_visitors(&owner, &p.id).await;
    assert_eq!(visitors.len(), 1);
    let v = &visitors[0];
    assert_eq!(v["anonymous_id"], "anon-1");
    assert_eq!(v["session_id"], "s-1");
    assert_eq!(
        v["current_page"],
        json!({"url": "https://shop.example/pricing?x=1", "path": "/pricing", "title": "Pricing"})
    );
    assert_eq!(
        (
            v["device"].as_str(),
            v["browser"].as_str(),
            v["os"].as_str()
        ),
        (Some("desktop"), Some("Chrome"), Some("Windows"))
    );
    assert_eq!(v["referrer"], "https://news.example/");
    assert_eq!(v["page_count"], 2);
    assert_eq!(v["stuck"], false);

    // Six minutes later on the same page, kept alive by heartbeats: stuck.
    app.clock.advance_ms(6 * 60_000);
    app.collect_ok(&p.write_key, vec![signal("heartbeat", "anon-1", "s-1")])
        .await;
    let v = &app.online_visitors(&owner, &p.id).await[0];
    assert_eq!(v["stuck"], true);
    assert!(v["time_on_page_s"].as_i64().unwrap() >= 360);
    assert!(v["time_on_site_s"].as_i64().unwrap() >= 360);
}

async fn leave_removes_the_visitor_at_once(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    app.collect_ok(
        &p.write_key,
        vec![pageview("a", "s-a", "/"), pageview("b", "s-b", "/")],
    )
    .await;
    app.collect_ok(&p.write_key, vec![signal("leave", "a", "s-a")])
        .await;
    let ids: Vec<String> = app
        .online_visitors(&owner, &p.id)
        .await
        .iter()
        .map(|v| v["session_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["s-b"]);
    assert!(app.stored_session(&p.id, "s-a").await.ended_at.is_some());
}

async fn silent_visitors_time_out_and_sessions_close(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    app.collect_ok(
        &p.write_key,
        vec![
            pageview("quiet", "s-quiet", "/"),
            pageview("busy", "s-busy", "/"),
        ],
    )
    .await;
    // Four minutes: both still inside the 5-minute online window.
    app.clock.advance_ms(4 * 60_000);
    app.collect_ok(&p.write_key, vec![signal("heartbeat", "busy", "s-busy")])
        .await;
    assert_eq!(app.online_visitors(&owner, &p.id).await.len(), 2);
    // Two more minutes: the quiet one has sent nothing for six.
    app.clock.advance_ms(2 * 60_000);
    let online = app.online_visitors(&owner, &p.id).await;
    assert_eq!(online.len(), 1);
    assert_eq!(online[0]["session_id"], "s-busy");
    // After the 30-minute idle timeout the session is closed for good.
    app.clock.advance_ms(25 * 60_000);
    assert_eq!(vibe_server::run_maintenance(&app.state).await.unwrap(), 1);
    let quiet = app.stored_session(&p.id, "s-quiet").await;
    assert_eq!(quiet.ended_at, Some(quiet.last_seen_at));
    let busy = app.stored_session(&p.id, "s-busy").await;
    assert!(busy.ended_at.is_none());
}

async fn identify_merges_the_anonymous_visitor_into_the_user(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    app.collect_ok(&p.write_key, vec![pageview("anon-9", "s-9", "/signup")])
        .await;
    let traits = json!({"email": "nine@example.com", "name": "Nine", "plan": "trial"});
    app.collect_ok(
        &p.write_key,
        vec![identify("anon-9", "s-9", "user-9", traits)],
    )
    .await;
    let v = &app.online_visitors(&owner, &p.id).await[0];
    assert_eq!(
        (
            v["user_id"].as_str(),
            v["email"].as_str(),
            v["name"].as_str()
        ),
        (Some("user-9"), Some("nine@example.com"), Some("Nine"))
    );
    assert_eq!(v["traits"]["plan"], "trial");

    // The same user on a second device merges into the same person.
    app.collect_ok(&p.write_key, vec![pageview("anon-10", "s-10", "/")])
        .await;
    let second_device = message("identify", "anon-10", "s-10", json!({"user_id": "user-9"}));
    app.collect_ok(&p.write_key, vec![second_device]).await;
    let online = app.online_visitors(&owner, &p.id).await;
    assert_eq!(online.len(), 2);
    assert!(online
        .iter()
        .all(|v| v["user_id"] == "user-9" && v["site_user_id"] == online[0]["site_user_id"]));
}

async fn online_rejects_unknown_projects(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let res = app.online(&owner, "no-such-project").await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}

crate::on_both_backends!(
    ingested_visitor_is_online_with_page_and_device,
    leave_removes_the_visitor_at_once,
    silent_visitors_time_out_and_sessions_close,
    identify_merges_the_anonymous_visitor_into_the_user,
    online_rejects_unknown_projects,
);
