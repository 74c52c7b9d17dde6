//! Agent presence: an online or away agent stays so while a dashboard socket
//! (the live feed) of theirs is open, and maintenance sets them offline once
//! none has been seen for the project's online window (300 s), from the
//! moment they were last seen.

use serde_json::{json, Value};
use vibe_store::Role;

use crate::helpers::*;
use crate::live::watch;

async fn status_of(app: &TestApp, session: &Session, base: &str, account: &str) -> Value {
    let agents = app.get_json(session, &format!("{base}/agents")).await;
    agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account_id"] == account)
        .cloned()
        .unwrap_or_else(|| panic!("{account} in {agents}"))
}

async fn agents_without_a_dashboard_socket_go_offline(backend: Backend) {
    let Some((app, owner, p)) = signed_in(backend).await else {
        return;
    };
    let base = format!("/api/v1/projects/{}", p.id);
    let agent = app.as_role(Role::Agent).await;
    let agent_id = app.account_id(&agent).await;
    let status = format!("{base}/agents/me/status");
    let on = json_of(app.put(&agent, &status, json!({"status": "online"})).await).await;
    assert_eq!(on["status"], "online");

    // With the feed open, ten minutes pass and the agent stays online.
    let (socket, _) = watch(&app, &p.id, &agent).await;
    app.clock.advance_ms(600_000);
    let stamped = app.clock.now_ms();
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(
        status_of(&app, &owner, &base, &agent_id).await["status"],
        "online"
    );

    // The socket closes; within the window nothing changes, after it the
    // agent is offline from the last moment a socket was seen.
    drop(socket);
    let last_seen = app.clock.now_ms();
    // The server notices the closed socket asynchronously.
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // (Real time passes too: the test waited above.)
    app.clock.advance_ms(290_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    let still = status_of(&app, &owner, &base, &agent_id).await;
    assert_eq!(still["status"], "online", "last seen {last_seen}: {still}");
    app.clock.advance_ms(12_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    let now = status_of(&app, &owner, &base, &agent_id).await;
    assert_eq!(now["status"], "offline", "{now}");
    let started = now["status_since"].as_i64().unwrap();
    assert!(
        (stamped..=last_seen).contains(&started),
        "offline from the last stamp ({stamped}..={last_seen}), not the sweep: {now}"
    );

    // An agent who never opened a dashboard goes offline after the window too;
    // an offline agent stays as they are.
    let away = json_of(app.put(&agent, &status, json!({"status": "away"})).await).await;
    assert_eq!(away["status"], "away");
    app.clock.advance_ms(301_000);
    vibe_server::run_maintenance(&app.state).await.unwrap();
    assert_eq!(
        status_of(&app, &owner, &base, &agent_id).await["status"],
        "offline"
    );
}

crate::on_both_backends!(agents_without_a_dashboard_socket_go_offline);
