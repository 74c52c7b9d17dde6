//! The collector under pressure: a full queue answers 503 with Retry-After and
//! loses nothing; shutdown commits what was already accepted.

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::Connection;

use crate::helpers::*;

/// Holds the database's write lock so the writer blocks, until dropped.
pub enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

pub async fn lock_writes(app: &TestApp) -> WriteLock {
    match app.state.config.database_url.as_ref() {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE user_events IN EXCLUSIVE MODE;")
                .execute(&mut c)
                .await
                .unwrap();
            WriteLock::Postgres(c)
        }
        None => {
            let path = app.state.config.data_dir.join("vibe.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE;")
                .execute(&mut c)
                .await
                .unwrap();
            WriteLock::Sqlite(c)
        }
    }
}

pub async fn unlock(lock: WriteLock) {
    match lock {
        WriteLock::Sqlite(mut c) => sqlx::raw_sql("COMMIT;")
            .execute(&mut c)
            .await
            .map(drop)
            .unwrap(),
        WriteLock::Postgres(mut c) => sqlx::raw_sql("COMMIT;")
            .execute(&mut c)
            .await
            .map(drop)
            .unwrap(),
    }
}

/// `n` collector requests of one page view each, in flight at once.
fn send_pageviews_concurrently(
    app: &TestApp,
    key: &str,
    n: usize,
) -> Vec<tokio::task::JoinHandle<reqwest::Response>> {
    send_concurrently(app, key, n, |i| {
        pageview(&format!("a{i}"), &format!("s{i}"), "/")
    })
}

fn send_concurrently(
    app: &TestApp,
    key: &str,
    n: usize,
    message: impl Fn(usize) -> serde_json::Value,
) -> Vec<tokio::task::JoinHandle<reqwest::Response>> {
    (0..n)
        .map(|i| app.spawn_collect(serde_json::json!({"key": key, "batch": [message(i)]})))
        .collect()
}

async fn full_queue_answers_503_and_loses_nothing(backend: Backend) {
    let Some((app, _, p)) = signed_in_with(backend, |c| c.queue_capacity = 1).await else {
        return;
    };
    let lock = lock_writes(&app).await;
    let sends = send_pageviews_concurrently(&app, &p.write_key, 6);
    overflow_then_count(&app, &p.id, lock, sends).await;
}

/// A queue with room for thousands of requests still refuses more than its
/// byte limit: 6 requests of ~6 KB each do not fit in 16 KB.
async fn queue_is_bounded_in_bytes_too(backend: Backend) {
    let Some((app, _, p)) = signed_in_with(backend, |c| c.queue_max_bytes = 16 * 1024).await else {
        return;
    };
    let lock = lock_writes(&app).await;
    let note = "n".repeat(6000);
    let sends = send_concurrently(&app, &p.write_key, 6, |i| {
        message(
            "event",
            &format!("a{i}"),
            &format!("s{i}"),
            serde_json::json!({"name": "big", "props": {"note": note}}),
        )
    });
    overflow_then_count(&app, &p.id, lock, sends).await;
    let m = &app.state.metrics;
    assert_eq!(vibe_server::collector::writer::counter(&m.queue_bytes), 0);
    assert_eq!(vibe_server::collector::writer::counter(&m.queue_depth), 0);
}

/// Waits for the queue to overflow, releases the writer, and checks every
/// answer: 202 (and stored) or 503 `queue_full` with `Retry-After`.
async fn overflow_then_count(
    app: &TestApp,
    project_id: &str,
    lock: WriteLock,
    sends: Vec<tokio::task::JoinHandle<reqwest::Response>>,
) {
    // Wait until the queue has overflowed at least once.
    let mut overflowed = false;
    for _ in 0..200 {
        if vibe_server::collector::writer::counter(&app.state.metrics.queue_full) > 0 {
            overflowed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(overflowed, "the queue never filled");
    unlock(lock).await;
    let (mut accepted, mut rejected) = (0, 0);
    for s in sends {
        let res = s.await.unwrap();
        match res.status() {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(res.headers()["retry-after"], "1");
                assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "queue_full").await;
                rejected += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        rejected >= 1 && accepted >= 1,
        "accepted {accepted}, rejected {rejected}"
    );
    assert_eq!(
        app.count_events(project_id).await,
        accepted,
        "every acknowledged event is stored"
    );
}

async fn shutdown_commits_accepted_requests(backend: Backend) {
    let Some((app, _, p)) = signed_in(backend).await else {
        return;
    };
    let lock = lock_writes(&app).await;
    let sends = send_pageviews_concurrently(&app, &p.write_key, 5);
    for _ in 0..200 {
        if vibe_server::collector::writer::counter(&app.state.metrics.queue_depth) >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let store = app.state.store.clone();
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    unlock(lock).await;
    stopping.await.unwrap();
    for s in sends {
        assert_eq!(s.await.unwrap().status(), StatusCode::ACCEPTED);
    }
    assert_eq!(store.count_events(&p.id).await.unwrap(), 5);
}

crate::on_both_backends!(
    full_queue_answers_503_and_loses_nothing,
    queue_is_bounded_in_bytes_too,
    shutdown_commits_accepted_requests
);
