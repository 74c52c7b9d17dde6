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
    let Some((app, _, p)) = signed_in(backend).await else {
        return;
    };
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
    let body =
        serde_json::json!({"key": p.write_key, "batch": [pageview("a2", "s2", "https://x/")]});
    let queued = app.spawn_collect(body);
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

/// `/readyz` answers 503 while the database refuses connections and 200 again
/// once it accepts them. PostgreSQL only: a database of its own is closed to
/// new connections and its sessions ended, which SQLite (a file the process
/// holds open) has no equivalent of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_an_unreachable_database() {
    let Ok(admin) = sqlx::PgPool::connect(&pg_url()).await else {
        return; // Every other PostgreSQL test reports (or, under CI, fails on) this.
    };
    let db = format!("t_ready_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let base = pg_url();
    let url = format!("{}/{db}", &base[..base.rfind('/').unwrap()]);
    let Some(app) = spawn_app_with(Backend::Postgres, |c| {
        c.database_url = Some(vibe_core::secret::Secret::new(url))
    })
    .await
    else {
        return;
    };
    assert_eq!(readyz(&app).await.0, StatusCode::OK);

    let close = format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false");
    sqlx::query(&close).execute(&admin).await.unwrap();
    let end_sessions = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1";
    let mut status = StatusCode::OK;
    for _ in 0..10 {
        sqlx::query(end_sessions)
            .bind(&db)
            .execute(&admin)
            .await
            .unwrap();
        status = readyz(&app).await.0;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
    }
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    let open = format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true");
    sqlx::query(&open).execute(&admin).await.unwrap();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        status = readyz(&app).await.0;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK);
    drop(app);
    let _ = sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
