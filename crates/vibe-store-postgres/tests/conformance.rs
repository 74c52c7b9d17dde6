use std::sync::Arc;

use vibe_store::Store;
use vibe_store_postgres::PgStore;

/// PostgreSQL at TEST_DATABASE_URL; under CI an unreachable server fails the
/// run instead of skipping (`vibe_store_postgres::unreachable`).
async fn available(url: &str) -> bool {
    match PgStore::connect(url, Some("vibe_probe")).await {
        Ok(_) => true,
        Err(e) => {
            vibe_store_postgres::unreachable::skip_or_fail(url, &e);
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    if !available(&url).await {
        return;
    }
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

fn uuid_simple() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{n:x}{:x}", std::process::id())
}
