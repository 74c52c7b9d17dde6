use std::sync::Arc;

use vibe_store::Store;
use vibe_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_passes_the_conformance_suite() {
    let dir = std::env::temp_dir().join(format!("vibe-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    vibe_store::testkit::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("case-{n}.db"));
        async move {
            let _ = std::fs::remove_file(&path);
            Arc::new(SqliteStore::open(&path).await.expect("open sqlite")) as Arc<dyn Store>
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sqlite_support_snapshots_match_recomputation() {
    let dir = std::env::temp_dir().join(format!("vibe-support-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("support.db");
    let _ = std::fs::remove_file(&path);
    vibe_store::testkit::run_support_analytics(|| {
        let path = path.clone();
        async move { Arc::new(SqliteStore::open(&path).await.expect("open sqlite")) as Arc<dyn Store> }
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}
