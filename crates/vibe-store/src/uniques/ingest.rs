//! Keeping `unique_days` at ingest, in the batch's transaction, over shared
//! statements ([`UniquesIo`]). Per batch: merges and the rollups fold their
//! changes into [`Adds`] (`(project, metric, key, day)` → person hashes to
//! insert or remove); then one statement per chunk of keys locks and reads
//! their sketches — an upsert
//! that leaves an existing row as it is and returns it, so on PostgreSQL it
//! also locks the row (and makes a missing one, so two nodes never both write
//! a first version) — the sketches are merged in Rust, and one multi-row
//! upsert writes them back. Keys are sorted, so nodes lock in one order.
//!
//! Merges (an anonymous person `A` folded into `B`, [`Adds::merge`]): before
//! `A`'s exact rows move, the sketches `A` is in are found from `A`'s
//! `user_days`, `feature_user_days`, `ai_usage_days` and `payments` rows;
//! with the batch's other changes, each then forgets `A` and gains `B` — when
//! exact (changes apply in order, so chained merges in one batch work). A
//! dense sketch cannot forget: it gains `B` and may still count `A`, one
//! person too many per merge, well within its estimate.

use std::collections::{BTreeMap, HashMap};

use super::{decode, person_hash, Sketch};
use crate::db::{Arg, TxExec, TxRead};
use crate::ingest::MultiRow;
use crate::StoreResult;

/// `(project, metric, key, day)` of a `unique_days` row.
pub type Key = (String, String, String, String);
type Row = (String, String, String, String, Vec<u8>);

/// What the sketches need of an open ingest transaction: shared statements.
pub trait UniquesIo:
    TxExec + TxRead<Row> + TxRead<PaymentRow> + TxRead<(String, String, String)> + TxRead<(String,)>
{
}

impl<T> UniquesIo for T where
    T: TxExec
        + TxRead<Row>
        + TxRead<PaymentRow>
        + TxRead<(String, String, String)>
        + TxRead<(String,)>
{
}

/// Creates missing rows empty, leaves existing ones as they are, and returns
/// them all: the read of the sketches a batch changes, which on PostgreSQL
/// also locks them (`ON CONFLICT DO UPDATE` takes the row lock).
static LOCK: MultiRow = MultiRow::new(
    "INSERT INTO unique_days (project_id, metric, key, day, sketch) VALUES ",
    5,
    " ON CONFLICT (project_id, metric, key, day) DO UPDATE SET sketch = unique_days.sketch
     RETURNING project_id, metric, key, day, sketch",
);
static WRITE: MultiRow = MultiRow::new(
    "INSERT INTO unique_days (project_id, metric, key, day, sketch) VALUES ",
    5,
    " ON CONFLICT (project_id, metric, key, day) DO UPDATE SET sketch = excluded.sketch",
);

/// The rows `$2` of project `$1` is in, as `(metric, key, day)`.
const ROWS_OF: &str = "SELECT 'active', '', day FROM user_days WHERE project_id = $1 AND site_user_id = $2
     UNION SELECT 'feature', name, day FROM feature_user_days WHERE project_id = $1 AND site_user_id = $2
     UNION SELECT 'ai', '', day FROM ai_usage_days WHERE project_id = $1 AND site_user_id = $2
     UNION SELECT 'paying', '', day FROM payments WHERE project_id = $1 AND site_user_id = $2";

/// One change to a sketch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Insert(u64),
    /// Exact sketches only (a dense one cannot forget).
    Remove(u64),
}

/// What a batch changes in each sketch, in order (merges first, as the batch
/// resolves identities; then what the rollups add), written at once by
/// [`Adds::write`] so every batch locks its sketches in one sorted pass.
#[derive(Debug, Default)]
pub struct Adds {
    by_key: BTreeMap<Key, Vec<Op>>,
}

impl Adds {
    /// `person` counts for `(project, metric, key, day)`.
    pub fn add(&mut self, project: &str, metric: &str, key: &str, day: &str, person: &str) {
        self.push(project, metric, key, day, Op::Insert(person_hash(person)));
    }

    /// `person` no longer counts for `(project, metric, key, day)` (exact
    /// sketches only).
    pub fn remove(&mut self, project: &str, metric: &str, key: &str, day: &str, person: &str) {
        self.push(project, metric, key, day, Op::Remove(person_hash(person)));
    }

    fn push(&mut self, project: &str, metric: &str, key: &str, day: &str, op: Op) {
        let k = (
            project.to_owned(),
            metric.to_owned(),
            key.to_owned(),
            day.to_owned(),
        );
        self.by_key.entry(k).or_default().push(op);
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Moves person `from` to `into` in every sketch `from` is in: found now,
    /// before the exact rows move (they are how `from`'s sketches are found),
    /// applied with the batch's other changes (see the module docs for dense
    /// sketches).
    pub async fn merge<I: UniquesIo>(
        &mut self,
        io: &mut I,
        project: &str,
        from: &str,
        into: &str,
    ) -> StoreResult<()> {
        let rows: Vec<(String, String, String)> =
            crate::flows::ingest::rows(io, ROWS_OF, &[project.into(), from.into()]).await?;
        let (a, b) = (person_hash(from), person_hash(into));
        for (metric, key, day) in rows {
            self.push(project, &metric, &key, &day, Op::Remove(a));
            self.push(project, &metric, &key, &day, Op::Insert(b));
        }
        Ok(())
    }

    /// The payers of the batch's payments: each payment counts for the
    /// `(person, day)` its row has after the batch's upserts (`after`; the
    /// earliest message dates a payment and names its person). A payment an
    /// earlier message re-dated or re-owned (`before` differs) stops counting
    /// for its old `(person, day)` unless another payment keeps it there.
    pub async fn payments<I: UniquesIo>(
        &mut self,
        io: &mut I,
        before: &[PaymentRow],
        after: &[PaymentRow],
    ) -> StoreResult<()> {
        let old: HashMap<(&str, &str), (&str, &str)> = before
            .iter()
            .map(|(p, id, person, day)| {
                ((p.as_str(), id.as_str()), (person.as_str(), day.as_str()))
            })
            .collect();
        for (project, id, person, day) in after {
            self.add(project, super::PAYING, "", day, person);
            let Some(&(old_person, old_day)) = old.get(&(project.as_str(), id.as_str())) else {
                continue;
            };
            if (old_person, old_day) == (person.as_str(), day.as_str()) {
                continue;
            }
            let args = [project.into(), old_person.into(), old_day.into()];
            let still: Vec<(String,)> = crate::flows::ingest::rows(io, PAYS_ON, &args).await?;
            if still.is_empty() {
                self.remove(project, super::PAYING, "", old_day, old_person);
            }
        }
        Ok(())
    }

    /// Applies the batch's changes to the stored sketches, in order: one
    /// locking read and one upsert per chunk of keys, in key order.
    pub async fn write<I: UniquesIo>(self, io: &mut I) -> StoreResult<()> {
        if self.is_empty() {
            return Ok(());
        }
        let (keys, ops): (Vec<Key>, Vec<Vec<Op>>) = self.by_key.into_iter().unzip();
        modify(io, &keys, |i, s| {
            for op in &ops[i] {
                match *op {
                    Op::Insert(h) => s.insert(h),
                    Op::Remove(h) => {
                        s.remove(h);
                    }
                }
            }
        })
        .await
    }
}

/// `(project, payment_id, site_user_id, day)` of a stored payment.
pub type PaymentRow = (String, String, String, String);

/// Whether person `$2` has a payment dated `$3`.
const PAYS_ON: &str =
    "SELECT payment_id FROM payments WHERE project_id = $1 AND site_user_id = $2 AND day = $3 LIMIT 1";

/// The stored rows of these payments (`(project, payment_id)`): read before
/// and after the batch's revenue upserts. One read per chunk of payments.
pub async fn payment_rows<I: UniquesIo>(
    io: &mut I,
    payments: &[(&str, String)],
) -> StoreResult<Vec<PaymentRow>> {
    let mut payments: Vec<(&str, &str)> =
        payments.iter().map(|(p, id)| (*p, id.as_str())).collect();
    payments.sort_unstable();
    payments.dedup();
    let mut out = Vec::new();
    for chunk in crate::ingest::shaped_chunks(&payments) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT project_id, payment_id, site_user_id, day FROM payments WHERE (project_id, payment_id) IN (VALUES {})",
            values.join(", ")
        );
        let args: Vec<Arg<'_>> = chunk
            .iter()
            .flat_map(|(p, id)| [Arg::from(*p), Arg::from(*id)])
            .collect();
        let rows: Vec<PaymentRow> = crate::flows::ingest::rows(io, &sql, &args).await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Reads (locking) the sketches of `keys` (sorted, unique), changes each with
/// `change(index, sketch)`, and writes them back.
async fn modify<I: UniquesIo>(
    io: &mut I,
    keys: &[Key],
    mut change: impl FnMut(usize, &mut Sketch),
) -> StoreResult<()> {
    let rows: Vec<Row> = LOCK
        .read(io, keys, |(p, m, k, d)| {
            vec![p.into(), m.into(), k.into(), d.into(), Arg::Blob(&[])]
        })
        .await?;
    let mut stored: HashMap<Key, Vec<u8>> = rows
        .into_iter()
        .map(|(p, m, k, d, s)| ((p, m, k, d), s))
        .collect();
    let mut out: Vec<(&Key, Vec<u8>)> = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let mut s = match stored.remove(key) {
            Some(bytes) => decode(&bytes)?,
            None => Sketch::new(),
        };
        change(i, &mut s);
        out.push((key, s.to_bytes()));
    }
    WRITE
        .write(io, &out, |((p, m, k, d), s)| {
            vec![p.into(), m.into(), k.into(), d.into(), Arg::Blob(s)]
        })
        .await
}
