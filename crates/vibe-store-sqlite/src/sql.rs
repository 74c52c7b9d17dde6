//! The statement helpers of the writer connection: error mapping, numbered
//! parameters, and the fixed-shape multi-row statements.

use rusqlite::{params_from_iter, CachedStatement, ToSql, Transaction};
use vibe_store::db::{Arg, TxExec, TxRead};
use vibe_store::ingest::shaped_chunks;
use vibe_store::StoreError;
use vibe_store::StoreResult;

pub fn err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(msg.clone().unwrap_or_default())
        }
        // A value too big or of the wrong type: the data is at fault.
        rusqlite::Error::SqliteFailure(f, msg)
            if matches!(
                f.code,
                rusqlite::ErrorCode::TooBig | rusqlite::ErrorCode::TypeMismatch
            ) =>
        {
            StoreError::Rejected(msg.clone().unwrap_or_else(|| f.to_string()))
        }
        _ => StoreError::other(e),
    }
}

/// `(?, ?, …), (?, ?, …)` for `rows` rows of `cols` columns.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(", "));
    vec![row; rows].join(", ")
}

/// The names rusqlite gives the shared statements' `$1, $2, …`.
const NUMBERED: [&str; 12] = [
    "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12",
];

/// A value [`numbered`] binds: this backend's own, or the shared code's [`Arg`].
pub(crate) trait Bind {
    fn bind(&self, stmt: &mut CachedStatement<'_>, index: usize) -> rusqlite::Result<()>;
}

impl Bind for &dyn ToSql {
    fn bind(&self, stmt: &mut CachedStatement<'_>, index: usize) -> rusqlite::Result<()> {
        stmt.raw_bind_parameter(index, self)
    }
}

impl Bind for Arg<'_> {
    fn bind(&self, stmt: &mut CachedStatement<'_>, index: usize) -> rusqlite::Result<()> {
        match *self {
            Arg::Text(s) => stmt.raw_bind_parameter(index, s),
            Arg::Int(i) => stmt.raw_bind_parameter(index, i),
            Arg::Blob(b) => stmt.raw_bind_parameter(index, b),
        }
    }
}

/// Prepares one of the shared `$n` statements with `values` bound by number
/// (rusqlite reads `$1` as a name, so binding by position could mismatch).
pub(crate) fn numbered<'t>(
    tx: &'t Transaction<'_>,
    statement: &str,
    values: &[impl Bind],
) -> StoreResult<CachedStatement<'t>> {
    let mut stmt = tx.prepare_cached(statement).map_err(err)?;
    debug_assert_eq!(stmt.parameter_count(), values.len(), "{statement}");
    for (i, value) in values.iter().enumerate() {
        // Multi-row shared statements (`retention::ingest`) number past 8.
        let owned;
        let name = match NUMBERED.get(i) {
            Some(n) => *n,
            None => {
                owned = format!("${}", i + 1);
                &owned
            }
        };
        // `$n` is usually the n-th parameter; otherwise look it up by name.
        let index = if stmt.parameter_name(i + 1) == Some(name) {
            Some(i + 1)
        } else {
            stmt.parameter_index(name).map_err(err)?
        };
        if let Some(index) = index {
            value.bind(&mut stmt, index).map_err(err)?;
        }
    }
    Ok(stmt)
}

/// Calls `each` with the first column of every row of a numbered statement.
pub(crate) fn each_row<T: rusqlite::types::FromSql>(
    tx: &Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
    mut each: impl FnMut(T),
) -> StoreResult<()> {
    let mut stmt = numbered(tx, statement, values)?;
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next().map_err(err)? {
        each(r.get(0).map_err(err)?);
    }
    Ok(())
}

/// The first column of the first row of a numbered statement, if any.
pub(crate) fn first_row<T: rusqlite::types::FromSql>(
    tx: &Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
) -> StoreResult<Option<T>> {
    Ok(optional::<(T,)>(tx, statement, values)?.map(|(v,)| v))
}

/// Runs one of the shared `$1, $2, …` statements; the rows it changed.
pub(crate) fn execute_numbered(
    tx: &Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
) -> StoreResult<usize> {
    numbered(tx, statement, values)?.raw_execute().map_err(err)
}

/// A row read as a tuple of its columns.
pub(crate) trait Columns:
    for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error>
{
}
impl<T> Columns for T where T: for<'r> TryFrom<&'r rusqlite::Row<'r>, Error = rusqlite::Error> {}

/// The first row of a numbered statement, if any.
pub(crate) fn optional<T: Columns>(
    tx: &Transaction<'_>,
    statement: &str,
    values: &[&dyn ToSql],
) -> StoreResult<Option<T>> {
    first_of(numbered(tx, statement, values)?)
}

fn first_of<T: Columns>(mut stmt: CachedStatement<'_>) -> StoreResult<Option<T>> {
    let mut rows = stmt.raw_query();
    rows.next()
        .map_err(err)?
        .map(T::try_from)
        .transpose()
        .map_err(err)
}

/// The shared transaction code's statements, on the writer.
impl TxExec for crate::ingest::Writer<'_, '_> {
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let changed = numbered(self.0, sql, args)?.raw_execute().map_err(err)?;
        Ok(changed as u64)
    }
}

impl<T: Columns> TxRead<T> for crate::ingest::Writer<'_, '_> {
    async fn all_rows(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<T>> {
        let mut stmt = numbered(self.0, sql, args)?;
        let mut out = Vec::new();
        read_rows(stmt.raw_query(), |r| out.push(r))?;
        Ok(out)
    }

    async fn first_row(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<T>> {
        first_of(numbered(self.0, sql, args)?)
    }
}

/// Every row of a positional (`?`) statement, mapped and appended to `out`.
pub(crate) fn push_rows<T: Columns, U>(
    tx: &Transaction<'_>,
    sql: &str,
    values: impl rusqlite::Params,
    out: &mut Vec<U>,
    map: impl Fn(T) -> U,
) -> StoreResult<()> {
    let mut stmt = tx.prepare_cached(sql).map_err(err)?;
    let rows = stmt.query(values).map_err(err)?;
    read_rows(rows, |r| out.push(map(r)))
}

fn read_rows<T: Columns>(mut rows: rusqlite::Rows<'_>, mut each: impl FnMut(T)) -> StoreResult<()> {
    while let Some(r) = rows.next().map_err(err)? {
        each(T::try_from(r).map_err(err)?);
    }
    Ok(())
}

/// The key columns a [`select_in`] matches rows by.
pub(crate) trait InKey<const N: usize> {
    fn key(&self) -> [&dyn ToSql; N];
}

/// `head IN (VALUES (?, …), …)` over `keys` in the fixed shapes, each row read
/// as `T` and mapped into the collection.
pub(crate) fn select_in<K: InKey<N>, T: Columns, U, C, const N: usize>(
    tx: &Transaction<'_>,
    head: &str,
    keys: &[K],
    map: impl Fn(T) -> U,
) -> StoreResult<C>
where
    C: Default + Extend<U>,
{
    let mut out = C::default();
    for chunk in shaped_chunks(keys) {
        let sql = format!("{head} IN (VALUES {})", placeholders(chunk.len(), N));
        let mut stmt = tx.prepare_cached(&sql).map_err(err)?;
        let rows = stmt
            .query(params_from_iter(chunk.iter().flat_map(InKey::key)))
            .map_err(err)?;
        read_rows(rows, |r| out.extend([map(r)]))?;
    }
    Ok(out)
}

/// `head VALUES (?, …), … tail` for `rows` rows of `cols` columns, prepared.
pub(crate) fn multi_row<'t>(
    tx: &'t Transaction<'_>,
    head: &str,
    rows: usize,
    cols: usize,
    tail: &str,
) -> StoreResult<CachedStatement<'t>> {
    let sql = format!("{head} VALUES {}{tail}", placeholders(rows, cols));
    tx.prepare_cached(&sql).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_bind_by_number_not_position() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b INTEGER)")
            .unwrap();
        let tx = conn.transaction().unwrap();
        // `$2` appears first: bound by position, `a` would get 2.
        let n = execute_numbered(&tx, "INSERT INTO t (b, a) VALUES ($2, $1)", &[&1, &2]).unwrap();
        assert_eq!(n, 1);
        let row: (i64, i64) = tx
            .query_row("SELECT a, b FROM t", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(row, (1, 2));
    }
}
