//! A live hub that falls behind drops batches and resyncs its dashboards with a
//! fresh snapshot instead of buffering without limit (issue 9, item 7).

use vibe_server::live::record::LiveBatch;

use crate::helpers::*;
use crate::live::{connect, next_json, until_type, Auth};

async fn a_hub_that_falls_behind_resyncs_instead_of_buffering(backend: Backend) {
    let Some((app, owner, p)) = signed_in_with(backend, |c| c.live_hub_backlog = 1).await else {
        return;
    };
    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    let mut ws = connect(&app, &p.id, Auth::Cookie(&owner)).await.unwrap();
    let first = next_json(&mut ws).await;
    assert_eq!(first["type"], "snapshot");
    // Far more batches at once than a one-batch backlog holds: the hub looks
    // each group up in the database, so it cannot keep pace with this loop.
    for i in 0..500 {
        app.state.live.hubs.dispatch(LiveBatch {
            project_id: p.id.clone(),
            touched: vec![format!("s-{i}"), "s-a".into()],
            ..LiveBatch::default()
        });
    }
    let (snap, _) = until_type(&mut ws, "snapshot").await;
    let visitors = snap["visitors"].as_array().unwrap();
    assert_eq!(visitors.len(), 1);
    assert_eq!(visitors[0]["session_id"], "s-a");
    // The feed goes on after the resync.
    app.collect_ok(&p.write_key, vec![pageview("b", "s-b", "https://x/")])
        .await;
    // The hub may still be working through the flood and drop this batch too;
    // then the visitor arrives in a further resync instead of as a delta.
    loop {
        let m = next_json(&mut ws).await;
        let shows_b = |v: &serde_json::Value| v["session_id"] == "s-b";
        match m["type"].as_str() {
            Some("visitor_joined") if shows_b(&m["visitor"]) => break,
            Some("snapshot") if m["visitors"].as_array().unwrap().iter().any(shows_b) => break,
            _ => {}
        }
    }
}

crate::on_both_backends!(a_hub_that_falls_behind_resyncs_instead_of_buffering);

/// On PostgreSQL the relay's outbox of pending `NOTIFY`s is bounded: when it
/// overflows, or a `NOTIFY` fails, the lost records are replaced by one
/// `resync` notification. Here that notification is sent the way the relay
/// sends it; every dashboard must get a fresh snapshot from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_notification_sends_every_dashboard_a_snapshot() {
    let Some((app, owner, p)) = signed_in(Backend::Postgres).await else {
        return;
    };
    app.collect_ok(&p.write_key, vec![pageview("a", "s-a", "https://x/")])
        .await;
    let mut ws = connect(&app, &p.id, Auth::Cookie(&owner)).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "snapshot");

    let url = app
        .state
        .config
        .database_url
        .as_ref()
        .unwrap()
        .expose()
        .to_owned();
    let channel = vibe_server::live::relay::channel_for(&url);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("SELECT pg_notify($1, 'resync')")
        .bind(&channel)
        .execute(&pool)
        .await
        .unwrap();
    let (snap, _) = until_type(&mut ws, "snapshot").await;
    let visitors = snap["visitors"].as_array().unwrap();
    assert_eq!(visitors.len(), 1);
    assert_eq!(visitors[0]["session_id"], "s-a");
}
