use std::sync::Arc;

use vibe_store::Store;
use vibe_store_postgres::PgStore;

/// TEST_DATABASE_URL when PostgreSQL answers there; under CI an unreachable
/// server fails the run instead of skipping (`vibe_store_postgres::unreachable`).
async fn database_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match PgStore::connect(&url, Some("vibe_probe")).await {
        Ok(_) => Some(url),
        Err(e) => {
            vibe_store_postgres::unreachable::skip_or_fail(&url, &e);
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let Some(url) = database_url().await else {
        return;
    };
    vibe_store::testkit::run_all(|| {
        let url = url.clone();
        async move {
            let schema = format!("t_{}", uuid_simple());
            Arc::new(
                PgStore::connect(&url, Some(&schema))
                    .await
                    .expect("connect postgres"),
            ) as Arc<dyn Store>
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_support_snapshots_match_recomputation() {
    let Some(url) = database_url().await else {
        return;
    };
    vibe_store::testkit::run_support_analytics(|| {
        let url = url.clone();
        async move {
            let schema = format!("t_{}", uuid_simple());
            Arc::new(
                PgStore::connect(&url, Some(&schema))
                    .await
                    .expect("connect postgres"),
            ) as Arc<dyn Store>
        }
    })
    .await;
}

/// Nodes starting together on a schema that does not exist yet all connect
/// (the probe above once failed when two tests created `vibe_probe` at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_on_a_new_schema_all_connect() {
    let Some(url) = database_url().await else {
        return;
    };
    let schema = format!("t_{}", uuid_simple());
    // Polled together on one task, so the four connects and migrations interleave.
    let start = || PgStore::connect(&url, Some(&schema));
    let (a, b, c, d) = tokio::join!(start(), start(), start(), start());
    for store in [a, b, c, d] {
        store.expect("every node connects and migrates");
    }
}

/// The two migration sets describe one schema: same tables, same columns (names
/// and nullability), same indexes by name and columns.
#[tokio::test]
async fn migrations_of_both_backends_agree() {
    use vibe_store::db::HasDb;
    use vibe_store::testkit::schema::describe;

    let Some(url) = database_url().await else {
        return;
    };
    let schema = format!("t_{}", uuid_simple());
    let pg = PgStore::connect(&url, Some(&schema))
        .await
        .expect("connect postgres");
    let path = std::env::temp_dir().join(format!("vibe-schema-{}.db", uuid_simple()));
    let sqlite = vibe_store_sqlite::SqliteStore::open(&path)
        .await
        .expect("open sqlite");
    let (pg_tables, sqlite_tables) = (describe(pg.db()).await, describe(sqlite.db()).await);
    drop(sqlite);
    let _ = std::fs::remove_file(&path);
    // The readers see what they should (a comparison of two empty maps proves nothing).
    let users = &pg_tables["site_users"];
    assert_eq!(users.columns.get("email"), Some(&true));
    assert_eq!(users.columns.get("first_seen"), Some(&false));
    assert_eq!(
        users.indexes["site_users_user_id"],
        ["project_id", "user_id"]
    );
    assert_eq!(
        pg_tables.keys().collect::<Vec<_>>(),
        sqlite_tables.keys().collect::<Vec<_>>(),
        "tables"
    );
    for (name, pg_table) in &pg_tables {
        let sqlite_table = &sqlite_tables[name];
        assert_eq!(pg_table.columns, sqlite_table.columns, "columns of {name}");
        assert_eq!(pg_table.indexes, sqlite_table.indexes, "indexes of {name}");
    }
}

fn uuid_simple() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}{:x}", std::process::id())
}

/// With autovacuum off, the store analyzes and vacuums a table of its schema
/// once enough rows changed, whoever wrote them: here another connection, as
/// `vibe demo` or another node would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_written_elsewhere_are_analyzed_and_vacuumed_when_autovacuum_is_off() {
    use vibe_store::db::HasDb;
    let Some(url) = database_url().await else {
        return;
    };
    let schema = format!("t_{}", uuid_simple());
    let store = PgStore::connect(&url, Some(&schema))
        .await
        .expect("connect");
    let vibe_store::db::Db::Postgres(pool) = store.db() else {
        unreachable!("a PgStore holds a PostgreSQL pool")
    };
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(pool)
        .await
        .unwrap();
    if autovacuum == "on" {
        eprintln!("autovacuum is on: the server maintains the tables, nothing to check");
        return;
    }
    let other = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&format!("{url}?options=-csearch_path%3D{schema}"))
        .await
        .unwrap();
    sqlx::raw_sql(
        "CREATE TABLE bulk (n BIGINT PRIMARY KEY);
         INSERT INTO bulk SELECT generate_series(1, 5000)",
    )
    .execute(&other)
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (analyzed, vacuumed): (bool, bool) = sqlx::query_as(
            "SELECT last_analyze IS NOT NULL, last_vacuum IS NOT NULL
             FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'bulk'",
        )
        .bind(&schema)
        .fetch_one(pool)
        .await
        .unwrap();
        if analyzed && vacuumed {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bulk not maintained within 60 s (analyzed {analyzed}, vacuumed {vacuumed})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
