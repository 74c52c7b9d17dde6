//! Distinct people over a range of days, read from per-day sketches instead
//! of `COUNT(DISTINCT site_user_id)` over per-person rows. `unique_days` holds
//! one [`Sketch`] per `(project, metric, key, day)`:
//!
//! | metric    | key        | people                                   | exact table          |
//! |-----------|------------|------------------------------------------|----------------------|
//! | `active`  | `''`       | active that day                          | `user_days`          |
//! | `feature` | event name | who used that custom event that day      | `feature_user_days`  |
//! | `ai`      | `''`       | who sent any `ai_usage` that day         | `ai_usage_days`      |
//! | `paying`  | `''`       | whose payment is dated that day          | `payments` (`day`)   |
//!
//! A report unions the range's sketches (a few KB per day at most) and
//! counts: exact while every day's sketch is exact (≤ 256 people a day), a
//! HyperLogLog estimate (±1.6 %) beyond. Ingest keeps the sketches in the
//! batch's transaction ([`ingest`]); merges of people move a person between
//! sketches ([`ingest::Adds::merge`]); `rollup::rebuild` recomputes them from the
//! exact tables ([`rebuild`]).

pub mod ingest;
pub mod sketch;

use crate::db::BeginWrite;
use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::db::{err, on_db, Db};
use crate::ingest::shaped_chunks;
use crate::{StoreError, StoreResult};
pub use sketch::{person_hash, Sketch};

/// `unique_days.metric` values.
pub const ACTIVE: &str = "active";
pub const FEATURE: &str = "feature";
pub const AI: &str = "ai";
pub const PAYING: &str = "paying";

const RANGE: &str = "SELECT key, sketch FROM unique_days
     WHERE project_id = $1 AND metric = $2 AND day >= $3 AND day <= $4";

/// People of the range whose every payment dated in the range is refunded by
/// its last day: the payers sketch counts them, `paying_users` does not.
/// Starts from the few refunded rows (`payments_refund_day`; a refund is
/// never dated before its payment), then checks each such person's other
/// payments of the range (`payments_person`; the person's days are written
/// `o.day || ''` so SQLite, planning without statistics, does not take
/// `payments_day` instead and walk every payment of the range per refund).
const REFUNDED_ONLY: &str = "SELECT COUNT(DISTINCT r.site_user_id) FROM payments r
     WHERE r.project_id = $1 AND r.refund_day >= $2 AND r.refund_day <= $3
       AND r.day >= $2 AND r.day <= $3
       AND NOT EXISTS (SELECT 1 FROM payments o WHERE o.project_id = $1 AND o.site_user_id = r.site_user_id
         AND (o.day || '') >= $2 AND (o.day || '') <= $3 AND (o.refund_day IS NULL OR o.refund_day > $3))";

pub(crate) fn decode(bytes: &[u8]) -> StoreResult<Sketch> {
    Sketch::from_bytes(bytes).map_err(StoreError::other)
}

/// The union of each key's sketches of `from..=to` (local days).
pub async fn union_by_key(
    db: &Db,
    project_id: &str,
    metric: &str,
    from: &str,
    to: &str,
) -> StoreResult<BTreeMap<String, Sketch>> {
    let rows: Vec<(String, Vec<u8>)> = db.all(RANGE, (project_id, metric, from, to)).await?;
    let mut out: BTreeMap<String, Sketch> = BTreeMap::new();
    for (key, bytes) in rows {
        out.entry(key).or_default().union(&decode(&bytes)?);
    }
    Ok(out)
}

/// Distinct people of each key over `from..=to`.
pub async fn count_by_key(
    db: &Db,
    project_id: &str,
    metric: &str,
    from: &str,
    to: &str,
) -> StoreResult<BTreeMap<String, i64>> {
    let by_key = union_by_key(db, project_id, metric, from, to).await?;
    Ok(by_key.into_iter().map(|(k, s)| (k, s.count())).collect())
}

/// Distinct people of a metric keyed `''` over `from..=to`.
pub async fn count(
    db: &Db,
    project_id: &str,
    metric: &str,
    from: &str,
    to: &str,
) -> StoreResult<i64> {
    Ok(count_by_key(db, project_id, metric, from, to)
        .await?
        .get("")
        .copied()
        .unwrap_or(0))
}

/// People with a payment dated in `from..=to` not refunded by `to`: the
/// payers sketch's count less those whose every such payment is refunded
/// (exact while the sketches are).
pub async fn paying_users(db: &Db, project_id: &str, from: &str, to: &str) -> StoreResult<i64> {
    let payers = count(db, project_id, PAYING, from, to).await?;
    let refunded: i64 = db.scalar(REFUNDED_ONLY, (project_id, from, to)).await?;
    Ok((payers - refunded).max(0))
}

/// Every person of the exact tables on `from..=to`, as `(metric, key, day, person)`.
const EXACT_ROWS: &str = "SELECT 'active', '', day, site_user_id FROM user_days
       WHERE project_id = $1 AND day >= $2 AND day <= $3
     UNION ALL SELECT 'feature', name, day, site_user_id FROM feature_user_days
       WHERE project_id = $1 AND day >= $2 AND day <= $3
     UNION ALL SELECT 'ai', '', day, site_user_id FROM ai_usage_days
       WHERE project_id = $1 AND day >= $2 AND day <= $3
     UNION ALL SELECT 'paying', '', day, site_user_id FROM payments
       WHERE project_id = $1 AND day >= $2 AND day <= $3";

/// The sketches the exact tables give for `from..=to`.
pub async fn from_exact(
    db: &Db,
    project_id: &str,
    from: &str,
    to: &str,
) -> StoreResult<BTreeMap<(String, String, String), Sketch>> {
    let rows: Vec<(String, String, String, String)> =
        db.all(EXACT_ROWS, (project_id, from, to)).await?;
    let mut out: BTreeMap<(String, String, String), Sketch> = BTreeMap::new();
    for (metric, key, day, person) in rows {
        out.entry((metric, key, day))
            .or_default()
            .insert(person_hash(&person));
    }
    Ok(out)
}

/// Recomputes `unique_days` of `from..=to` (local days) from the exact tables
/// (after they are rebuilt), a week at a time, each in one transaction.
pub async fn rebuild(db: &Db, project_id: &str, from: Date, to: Date) -> StoreResult<()> {
    let days = vibe_core::day::days_between(from, to);
    for week in days.chunks(7) {
        let (first, last) = (week[0].to_string(), week[week.len() - 1].to_string());
        let sketches = from_exact(db, project_id, &first, &last).await?;
        let rows: Vec<(String, String, String, Vec<u8>)> = sketches
            .into_iter()
            .map(|((m, k, d), s)| (m, k, d, s.to_bytes()))
            .collect();
        on_db!(db, pool, DB => async {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM unique_days WHERE project_id = $1 AND day >= $2 AND day <= $3")
                .bind(project_id)
                .bind(&first)
                .bind(&last)
                .execute(&mut *tx)
                .await?;
            for chunk in shaped_chunks(&rows) {
                let mut q = sqlx::QueryBuilder::<DB>::new("INSERT INTO unique_days (project_id, metric, key, day, sketch) ");
                q.push_values(chunk, |mut b, (m, k, d, s)| {
                    b.push_bind(project_id).push_bind(m).push_bind(k).push_bind(d).push_bind(s);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }.await)
        .map_err(err)?;
    }
    Ok(())
}

/// Every stored sketch of a project as `(metric, key, day)` → sketch, for
/// tests comparing ingest with a rebuild and with the exact tables.
pub async fn all_sketches(
    db: &Db,
    project_id: &str,
) -> StoreResult<BTreeMap<(String, String, String), Sketch>> {
    let rows: Vec<(String, String, String, Vec<u8>)> = db
        .all(
            "SELECT metric, key, day, sketch FROM unique_days WHERE project_id = $1",
            (project_id,),
        )
        .await?;
    let mut out = BTreeMap::new();
    for (m, k, d, bytes) in rows {
        let s = decode(&bytes)?;
        // A row locked but left empty counts for no one.
        if s.count() > 0 {
            out.insert((m, k, d), s);
        }
    }
    Ok(out)
}
