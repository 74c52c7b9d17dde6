//! The one handle shared SQL runs on. A statement is written once, as a `const`
//! or a built string with `$1, $2, …` placeholders (sqlx accepts those on SQLite
//! too), and [`on_db!`] runs the same code on whichever pool is configured: the
//! macro expands the body once per backend, so each arm is ordinary, statically
//! typed sqlx code (no `Any` driver, no boxing of rows or arguments).
//!
//! Rules that keep one statement valid on both databases:
//! - integers are `i64` (SQLite INTEGER, PostgreSQL BIGINT); cast aggregates
//!   that PostgreSQL widens (`CAST(SUM(x) AS BIGINT)`, not `SUM(x)::int8`);
//! - booleans differ in storage (INTEGER 0/1 vs BOOLEAN): compare them in the
//!   backend-specific code or bind them as the column's type, never `NOT $1`;
//! - JSON is stored as text and decoded in Rust;
//! - `ON CONFLICT … DO UPDATE … excluded.x` and `RETURNING` work on both;
//! - a subquery in `FROM` needs an alias (PostgreSQL requires one);
//! - results of `execute` differ in type per backend: map them to
//!   `rows_affected()` inside the arm.

use sqlx::{PgPool, SqlitePool};

use crate::{StoreError, StoreResult};

/// Runs `$body` with `$pool` bound to the configured backend's pool. With a
/// third name (`on_db!(db, pool, DB => …)`), `DB` names that arm's
/// `sqlx::Database` type, for `QueryBuilder::<DB>`.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
    ($db:expr, $pool:ident, $database:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => {
                #[allow(dead_code)]
                type $database = sqlx::Sqlite;
                $body
            }
            $crate::db::Db::Postgres($pool) => {
                #[allow(dead_code)]
                type $database = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use on_db;

/// The pool of the configured backend.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    /// Backend name for logs and `/readyz`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Cheap round trip proving the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ())).map_err(err)
    }
}

/// Gives the shared domain code the backend's [`Db`]. Every backend implements
/// it; the domain traits' default methods run their SQL through it.
pub trait HasDb: Send + Sync + 'static {
    fn db(&self) -> &Db;
}

/// Maps sqlx errors to the store's: no row → `NotFound`, unique violation →
/// `Conflict`. Both backends use it for their own queries too.
pub fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        _ => StoreError::other(e),
    }
}

/// `NotFound` when an update or delete touched no row.
pub fn found(rows_affected: u64) -> StoreResult<()> {
    if rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
