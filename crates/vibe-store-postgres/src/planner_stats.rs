//! Planner statistics and visibility maps when autovacuum is off. Without
//! them PostgreSQL keeps planning as if the tables were as small as when
//! they were created: ingestion slowed down as the tables grew (the last
//! tenth of a 300k-event load took 20 times longer than the first), and at
//! 1M people the reports picked plans for ten rows where there were 30,000
//! (a people page sorted in full instead of read in index order, 105 ms
//! against 0.4 ms), and index-only scans read the heap for every row.
//!
//! When the server does not maintain the tables, the store stands in for
//! autovacuum with autovacuum's default thresholds: every few seconds it
//! reads the schema's table counters (those of `pg_stat_user_tables`, which count
//! every node's and every process's writes — a bulk load by `vibe demo` is
//! seen by the server started after it) and analyzes, or vacuums and
//! analyzes, the tables past them, one at a time on its own connection.

use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// How often the counters are read.
const EVERY: Duration = Duration::from_secs(5);

/// The tables of the store's schema past autovacuum's default thresholds
/// (`autovacuum_analyze_threshold` 50 + `autovacuum_analyze_scale_factor`
/// 0.1 of the rows changed since the last ANALYZE; `autovacuum_vacuum_*` 50 +
/// 0.2 dead rows, and `autovacuum_vacuum_insert_*` 1000 + 0.2 rows inserted
/// since the last VACUUM, which sets the visibility map index-only scans
/// need), and whether each needs a VACUUM. Biggest first.
/// Read from `pg_class` of the schema with the statistics functions rather
/// than through `pg_stat_user_tables`, which calls them for every table of
/// the database (130k relations of test schemas here: 133 ms against 33).
const DUE: &str = "SELECT relname::text,
        (dead > 50 + 0.2 * live OR inserted > 1000 + 0.2 * live) AS vacuum
    FROM (SELECT c.relname,
                 pg_stat_get_live_tuples(c.oid) AS live,
                 pg_stat_get_dead_tuples(c.oid) AS dead,
                 pg_stat_get_mod_since_analyze(c.oid) AS modified,
                 pg_stat_get_ins_since_vacuum(c.oid) AS inserted
          FROM pg_class c
          WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r') t
    WHERE modified > 50 + 0.1 * live OR dead > 50 + 0.2 * live OR inserted > 1000 + 0.2 * live
    ORDER BY live DESC";

/// Keeps the tables maintained while it lives (the task stops when the
/// store is dropped).
pub struct Maintainer(tokio::task::AbortHandle);

impl Drop for Maintainer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the maintainer when autovacuum is off.
pub async fn start_if_needed(pool: &PgPool, opts: &PgConnectOptions) -> Option<Maintainer> {
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(pool)
        .await
        .ok()?;
    if autovacuum == "on" {
        return None;
    }
    tracing::warn!(
        "PostgreSQL autovacuum is off; Vibe will ANALYZE and VACUUM its tables as they change"
    );
    // Its own connection, without the pool's slow-statement warnings: a long
    // VACUUM is expected.
    let opts = opts
        .clone()
        .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(600));
    Some(Maintainer(tokio::spawn(run(opts)).abort_handle()))
}

async fn run(opts: PgConnectOptions) {
    let mut conn: Option<PgConnection> = None;
    loop {
        tokio::time::sleep(EVERY).await;
        if conn.is_none() {
            match opts.connect().await {
                Ok(c) => conn = Some(c),
                Err(e) => tracing::warn!(error = %e, "table maintenance: cannot connect"),
            }
        }
        if let Some(c) = conn.as_mut() {
            if let Err(e) = maintain(c).await {
                tracing::warn!(error = %e, "table maintenance failed");
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
            }
        }
    }
}

/// One pass: every due table, one statement each.
async fn maintain(conn: &mut PgConnection) -> sqlx::Result<()> {
    let due: Vec<(String, bool)> = sqlx::query_as(DUE).fetch_all(&mut *conn).await?;
    for (table, vacuum) in due {
        // The name comes from the catalog; quoted as an identifier all the same.
        let name = format!("\"{}\"", table.replace('"', "\"\""));
        let sql = if vacuum {
            format!("VACUUM (ANALYZE) {name}")
        } else {
            format!("ANALYZE {name}")
        };
        let started = std::time::Instant::now();
        sqlx::Executor::execute(&mut *conn, sql.as_str()).await?;
        tracing::debug!(
            table,
            vacuum,
            ms = started.elapsed().as_millis() as u64,
            "maintained"
        );
    }
    Ok(())
}
