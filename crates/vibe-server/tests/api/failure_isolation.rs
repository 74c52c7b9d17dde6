//! One request the database refuses fails alone: the rest of its batch commits,
//! whichever projects they belong to (issue 9, item 1).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::*;
use crate::queue::{lock_writes, unlock};

/// Makes the database refuse any event named `poison`, as a CHECK constraint, or
/// a value one backend cannot store, would. Such a request passes every edge
/// check, so only the writer's isolation keeps it from failing the requests
/// batched with it (a NUL, which the edge refuses, could not show that).
async fn refuse_poison_events(app: &TestApp) {
    match app.state.config.database_url.as_ref() {
        Some(url) => {
            let mut c = sqlx::PgConnection::connect(url.expose()).await.unwrap();
            sqlx::raw_sql(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN
                   IF NEW.name = 'poison' THEN
                     RAISE EXCEPTION 'poisoned event' USING ERRCODE = 'check_violation';
                   END IF;
                   RETURN NEW;
                 END $$;
                 CREATE TRIGGER refuse_poison BEFORE INSERT ON user_events
                   FOR EACH ROW EXECUTE FUNCTION refuse_poison();",
            )
            .execute(&mut c)
            .await
            .unwrap();
        }
        None => {
            let path = app.state.config.data_dir.join("vibe.db");
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON user_events
                   WHEN NEW.name = 'poison'
                 BEGIN SELECT RAISE(ABORT, 'poisoned event'); END;",
            )
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
}

/// 50 good requests from two projects and one bad one, in one batch: the writer
/// is held on the database's write lock (with the first request it took) until
/// `queued` requests wait behind it.
async fn one_batch_with_a_bad_request(
    app: &TestApp,
    queued: u64,
    bad: impl Fn(&str) -> Value,
) -> (Vec<reqwest::Response>, reqwest::Response, [String; 2]) {
    let owner = app.login_owner().await;
    let a = app.default_project(&owner).await;
    let b = app.create_project(&owner, "Second").await;
    let lock = lock_writes(app).await;
    let mut good = Vec::new();
    for i in 0..50 {
        let p = if i % 2 == 0 { &a } else { &b };
        let anon = format!("a{i}");
        let batch = vec![
            pageview(&anon, &format!("s{i}"), "https://x/"),
            event(&anon, &format!("s{i}"), "signup"),
        ];
        good.push(app.spawn_collect(json!({"key": p.write_key, "batch": batch})));
        if i == 25 {
            good.push(app.spawn_collect(bad(&a.write_key)));
        }
    }
    let bad = good.remove(26);
    // At most 5 s: the writer waits 10 s for SQLite's lock (busy timeout)
    // before its batch fails, and on a loaded machine the requests can be
    // slow to queue. Unlocked early, every request is still answered.
    for _ in 0..200 {
        if vibe_server::collector::writer::counter(&app.state.metrics.queue_depth) >= queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    unlock(lock).await;
    let mut answers = Vec::new();
    for g in good {
        answers.push(g.await.unwrap());
    }
    (answers, bad.await.unwrap(), [a.id, b.id])
}

async fn a_request_the_database_refuses_fails_alone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    refuse_poison_events(&app).await;
    // 51 requests, one of them in flight.
    let (good, bad, [a, b]) = one_batch_with_a_bad_request(&app, 50, |key| {
        json!({"key": key, "batch": [
            pageview("bad", "s-bad", "https://x/bad"),
            event("bad", "s-bad", "poison"),
        ]})
    })
    .await;
    for res in good {
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        assert_eq!(json_of(res).await["accepted"], 2);
    }
    let err = assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "rejected_by_storage").await;
    // The database's own text (the trigger's message) stays in the log.
    assert!(
        !err["message"].as_str().unwrap().contains("poisoned event"),
        "{err}"
    );
    // Nothing of the bad request is stored, not even its valid page view.
    assert_eq!(app.count_events(&a).await, 50);
    assert_eq!(app.count_events(&b).await, 50);
    let store = &app.state.store;
    assert!(store.session(&a, "s-bad").await.unwrap().is_none());
    assert!(store
        .site_user_for_anonymous_id(&a, "bad")
        .await
        .unwrap()
        .is_none());
    let m = &app.state.metrics;
    use vibe_server::collector::writer::counter;
    assert!(
        counter(&m.failed_batches) >= 1,
        "the mixed batch failed first"
    );
    assert_eq!(counter(&m.rejected_by_storage), 1);
    assert_eq!(counter(&m.accepted), 100);
    // The rolled-back attempts left nothing behind: each event is stored once.
    let owner = app.login_owner().await;
    let events = app.events(&owner, &a).await;
    assert_eq!(events.len(), 50);
}

async fn a_nul_character_is_refused_at_the_edge(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    // The bad request is never queued: 50, one of them in flight.
    let (good, bad, [a, b]) = one_batch_with_a_bad_request(&app, 49, |key| {
        json!({"key": key, "batch": [
            pageview("bad", "s-bad", "https://x/bad"),
            message("event", "bad", "s-bad", json!({"name": "x", "props": {"note": "a\u{0}b"}})),
        ]})
    })
    .await;
    for res in good {
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let err = assert_error(bad, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(err["field"], "batch[1].props.note");
    assert_eq!(app.count_events(&a).await, 50);
    assert_eq!(app.count_events(&b).await, 50);
    let m = &app.state.metrics;
    assert_eq!(
        vibe_server::collector::writer::counter(&m.failed_batches),
        0
    );

    // Every string field and the write key are checked the same way.
    let owner = app.login_owner().await;
    let p = app.default_project(&owner).await;
    let res = app
        .collect(&p.write_key, vec![pageview("a\u{0}", "s", "https://x/")])
        .await;
    let err = assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(err["field"], "batch[0].anonymous_id");
    let res = app
        .collect("wk\u{0}", vec![pageview("a", "s", "https://x/")])
        .await;
    let err = assert_error(res, StatusCode::BAD_REQUEST, "invalid_field").await;
    assert_eq!(err["field"], "key");
}

crate::on_both_backends!(
    a_request_the_database_refuses_fails_alone,
    a_nul_character_is_refused_at_the_edge
);
