//! The ingest writer is supervised: if it dies it is restarted on the same queue,
//! requests of the batch it was writing are answered 503, and `/readyz` reports
//! it down meanwhile (issue 9, item 2). Failures are injected through the
//! test-only `WriterFaults` hook.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::*;

async fn readyz(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    (res.status(), json_of(res).await)
}

async fn metrics_text(app: &TestApp) -> String {
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    res.text().await.unwrap()
}

async fn a_dead_writer_is_restarted_with_its_queue(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.login_owner().await;
    let p = app.default_project(&owner).await;
    assert_eq!(readyz(&app).await.1["writer"], "up");
    assert!(metrics_text(&app)
        .await
        .contains("\nvibe_writer_restarts_total 0\n"));

    let faults = app.state.ingest.faults();
    faults.hold_restart(true);
    faults.crash_next_batch();
    // The request in the batch being written when the writer died is answered.
    let res = app
        .collect(&p.write_key, vec![pageview("a1", "s1", "https://x/")])
        .await;
    assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable").await;
    // The reply is dropped while the task unwinds, a moment before the
    // supervisor sees it end; held, it then stays down.
    let mut down = readyz(&app).await;
    for _ in 0..200 {
        if down.0 == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        down = readyz(&app).await;
    }
    assert_eq!(down.0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.1["writer"], "down");

    // Requests queue up while it is down and are written once it is back.
    let (client, url, key) = (
        app.client.clone(),
        app.url("/api/v1/collect"),
        p.write_key.clone(),
    );
    let queued = tokio::spawn(async move {
        let body = serde_json::json!({"key": key, "batch": [pageview("a2", "s2", "https://x/")]});
        client
            .post(url)
            .header("user-agent", BROWSER_UA)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    });
    for _ in 0..400 {
        if vibe_server::collector::writer::counter(&app.state.metrics.queue_depth) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!queued.is_finished());
    faults.hold_restart(false);
    let res = queued.await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(json_of(res).await["accepted"], 1);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["writer"], "up");
    assert!(metrics_text(&app)
        .await
        .contains("\nvibe_writer_restarts_total 1\n"));
    // The lost request is stored when the tracker sends it again.
    app.collect_ok(&p.write_key, vec![pageview("a1", "s1", "https://x/")])
        .await;
    assert_eq!(app.count_events(&p.id).await, 2);
    // And the restarted writer still drains on shutdown.
    app.stop().await;
}

crate::on_both_backends!(a_dead_writer_is_restarted_with_its_queue);
