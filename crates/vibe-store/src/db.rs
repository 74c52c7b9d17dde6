//! The one handle shared SQL runs on. A statement is written once, as a `const`
//! or a built string with `$1, $2, …` placeholders (sqlx accepts those on SQLite
//! too). One statement with its parameters is one call to a [`Db`] helper
//! (`all`, `optional`, `one`, `scalar`, `scalars`, `execute`); anything longer
//! (transactions, `QueryBuilder`) goes through [`on_db!`], which expands its body
//! once per backend. Either way each backend runs ordinary, statically typed
//! sqlx code (no `Any` driver, no boxing of rows); rows decode through the
//! generic `FromRow` derives of the domain records.
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

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Decode, Encode, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Type};

use crate::{StoreError, StoreResult};

/// Opens a transaction that writes. On SQLite it takes the write lock at
/// `BEGIN IMMEDIATE`, waiting up to the busy timeout: a deferred transaction
/// that reads first fails at once with `SQLITE_BUSY_SNAPSHOT` (517) when
/// another connection committed in between, which concurrent webhooks and
/// API writes hit all the time. PostgreSQL's row locks need nothing extra.
#[allow(async_fn_in_trait)] // only the two concrete pools implement it
pub trait BeginWrite {
    type Database: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Database = Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        self.begin().await
    }
}

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

/// A row type both backends decode (any `#[derive(sqlx::FromRow)]` of
/// `i64`/`String`/`Option` fields, or a tuple of them).
pub trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}
impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// A single value both backends decode (`i64`, `String`, `Option<…>`).
pub trait Scalar:
    Send
    + Unpin
    + Type<Sqlite>
    + Type<Postgres>
    + for<'r> Decode<'r, Sqlite>
    + for<'r> Decode<'r, Postgres>
{
}
impl<T> Scalar for T where
    T: Send
        + Unpin
        + Type<Sqlite>
        + Type<Postgres>
        + for<'r> Decode<'r, Sqlite>
        + for<'r> Decode<'r, Postgres>
{
}

/// The values bound to a shared statement, in `$1, $2, …` order: `()` or a
/// tuple of values both backends encode.
pub trait Params<'q>: SqliteParams<'q> + PgParams<'q> {}
impl<'q, T: SqliteParams<'q> + PgParams<'q>> Params<'q> for T {}

/// Values bound to a SQLite statement (a tuple, as for [`Params`]).
pub trait SqliteParams<'q>: Send {
    fn sqlite(self) -> Result<SqliteArguments<'q>, sqlx::error::BoxDynError>;
}

/// Values bound to a PostgreSQL statement: also arrays, which SQLite lacks
/// (the backend's own statements bind them).
pub trait PgParams<'q>: Send {
    fn postgres(self) -> Result<PgArguments, sqlx::error::BoxDynError>;
}

macro_rules! params_tuple {
    ($($v:ident),*) => {
        params_tuple!(@one SqliteParams, Sqlite, SqliteArguments<'q>, sqlite, $($v),*);
        params_tuple!(@one PgParams, Postgres, PgArguments, postgres, $($v),*);
    };
    (@one $trait:ident, $db:ident, $args:ty, $method:ident, $($v:ident),*) => {
        impl<'q, $($v),*> $trait<'q> for ($($v,)*)
        where
            $($v: 'q + Send + Type<$db> + Encode<'q, $db>,)*
        {
            #[allow(non_snake_case, unused_mut)]
            fn $method(self) -> Result<$args, sqlx::error::BoxDynError> {
                let mut args = <$args>::default();
                let ($($v,)*) = self;
                $(args.add($v)?;)*
                Ok(args)
            }
        }
    };
}
params_tuple!();
params_tuple!(A);
params_tuple!(A, B);
params_tuple!(A, B, C);
params_tuple!(A, B, C, D);
params_tuple!(A, B, C, D, E);
params_tuple!(A, B, C, D, E, F);
params_tuple!(A, B, C, D, E, F, G);
params_tuple!(A, B, C, D, E, F, G, H);
params_tuple!(A, B, C, D, E, F, G, H, I);

/// Runs one statement with its parameters on whichever pool is configured,
/// mapping the result with `$map` when given.
macro_rules! run {
    ($db:expr, $sql:expr, $params:expr, $query:ident, $fetch:ident $(, $map:expr)?) => {
        match $db {
            Db::Sqlite(pool) => {
                let args = $params.sqlite().map_err(sqlx::Error::Encode).map_err(err)?;
                let done = sqlx::$query($sql, args).$fetch(pool).await;
                done $(.map($map))? .map_err(err)
            }
            Db::Postgres(pool) => {
                let args = $params.postgres().map_err(sqlx::Error::Encode).map_err(err)?;
                let done = sqlx::$query($sql, args).$fetch(pool).await;
                done $(.map($map))? .map_err(err)
            }
        }
    };
}

/// The migrations, in order: one list of names for both backends, each
/// expanding it over its own `migrations/NNNN_name.sql` files (the SQL is per
/// backend because the types differ; the numbering is not). A migration added
/// to one set only fails to compile in the other backend.
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::migrations!(@files
            1 "0001_init", 2 "0002_rollups", 3 "0003_funnels", 4 "0004_funnel_rollup",
            5 "0005_churn", 6 "0006_open_sessions", 7 "0007_funnel_hours",
            8 "0008_funnel_builds", 9 "0009_security", 10 "0010_crm_contacts", 11 "0011_revenue",
            12 "0012_retention", 13 "0013_features", 14 "0014_segments", 15 "0015_timeline",
            16 "0016_signups", 17 "0017_flows", 18 "0018_uniques", 19 "0019_revenue_rollups",
            20 "0020_inbox", 21 "0021_channels", 22 "0022_crm_read_paths", 23 "0023_outbound",
            24 "0024_email", 26 "0026_support_api", 27 "0027_agent_presence",
            28 "0028_inbox_search", 29 "0029_broadcasts", 30 "0030_support_events",
            31 "0031_analytics_snapshots", 32 "0032_audit_log", 33 "0033_support_settings",
            34 "0034_snapshot_projections", 35 "0035_support_events_conversation",
            36 "0036_message_templates", 37 "0037_support_events_channel",
            38 "0038_campaigns",
            39 "0039_push", 40 "0040_campaign_tracking"
        )
    };
    (@files $($n:literal $name:literal),*) => {
        &[$(($n, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $name, ".sql")))),*]
    };
}

impl Db {
    /// Applies the migrations not applied yet, in order, in one transaction.
    /// The migration files themselves are per backend (the types differ).
    pub async fn migrate(&self, migrations: &[(i64, &str)]) -> StoreResult<()> {
        // The version table's integer type is the one difference in it.
        let table = match self {
            Db::Sqlite(_) => "CREATE TABLE IF NOT EXISTS _vibe_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
            Db::Postgres(_) => "CREATE TABLE IF NOT EXISTS _vibe_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        };
        let backend = self.backend();
        on_db!(self, pool => async {
            let mut tx = pool.begin().await?;
            if matches!(self, Db::Postgres(_)) {
                // Several nodes may start at once: one migrates, the others wait here.
                sqlx::query("SELECT pg_advisory_xact_lock(7469626501)")
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::raw_sql(table).execute(&mut *tx).await?;
            for (version, sql) in migrations {
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM _vibe_migrations WHERE version = $1")
                        .bind(version)
                        .fetch_optional(&mut *tx)
                        .await?;
                if done.is_some() {
                    continue;
                }
                tracing::info!(version, backend, "applying migration");
                sqlx::raw_sql(sql).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO _vibe_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(vibe_core::time::system_now_ms())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await)
        .map_err(err)
    }
}

/// One-statement helpers: most shared methods are one call to one of these.
/// Anything longer (transactions, `QueryBuilder`) uses [`on_db!`].
impl Db {
    /// Runs a statement; returns how many rows it touched.
    pub async fn execute<'q>(&self, sql: &'q str, p: impl Params<'q>) -> StoreResult<u64> {
        run!(self, sql, p, query_with, execute, |r| r.rows_affected())
    }

    pub async fn all<'q, T: Row>(&self, sql: &'q str, p: impl Params<'q>) -> StoreResult<Vec<T>> {
        run!(self, sql, p, query_as_with, fetch_all)
    }

    pub async fn optional<'q, T: Row>(
        &self,
        sql: &'q str,
        p: impl Params<'q>,
    ) -> StoreResult<Option<T>> {
        run!(self, sql, p, query_as_with, fetch_optional)
    }

    pub async fn one<'q, T: Row>(&self, sql: &'q str, p: impl Params<'q>) -> StoreResult<T> {
        run!(self, sql, p, query_as_with, fetch_one)
    }

    /// The first column of the one row a statement returns.
    pub async fn scalar<'q, T: Scalar>(&self, sql: &'q str, p: impl Params<'q>) -> StoreResult<T> {
        run!(self, sql, p, query_scalar_with, fetch_one)
    }

    /// The first column of every row.
    pub async fn scalars<'q, T: Scalar>(
        &self,
        sql: &'q str,
        p: impl Params<'q>,
    ) -> StoreResult<Vec<T>> {
        run!(self, sql, p, query_scalar_with, fetch_all)
    }

    /// Rows of `{head}$project{middle} IN ($id, …){tail}`: a lookup of a
    /// project's rows by a list of keys (a page's people, sessions), every
    /// value bound. Nothing is asked for an empty list.
    pub async fn all_in<T: Row>(
        &self,
        head: &str,
        project_id: &str,
        middle: &str,
        ids: &[&str],
        tail: &str,
    ) -> StoreResult<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_db!(self, pool, DB => {
            let mut q = sqlx::QueryBuilder::<DB>::new(head);
            q.push_bind(project_id).push(middle).push(" IN (");
            let mut sep = q.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            q.push(")").push(tail);
            q.build_query_as().fetch_all(pool).await
        })
        .map_err(err)
    }
}

/// A value bound to a statement on a backend's open transaction: what the
/// shared transaction code (ingest, funnel rollup, builds) passes to [`TxExec`]
/// and [`TxRead`].
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    /// BLOB on SQLite, BYTEA on PostgreSQL (`unique_days.sketch`).
    Blob(&'a [u8]),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Self::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Self::Text(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

/// Binds [`Arg`]s in order, for the PostgreSQL transaction's statements.
impl<'q> PgParams<'q> for &[Arg<'q>] {
    fn postgres(self) -> Result<PgArguments, sqlx::error::BoxDynError> {
        let mut args = PgArguments::default();
        for a in self {
            match *a {
                Arg::Text(s) => args.add(s)?,
                Arg::Int(i) => args.add(i)?,
                Arg::Blob(b) => args.add(b)?,
            }
        }
        Ok(args)
    }
}

/// Runs one of the shared `$n` statements on a backend's open transaction (the
/// SQLite writer synchronously, PostgreSQL through sqlx): the primitive the
/// transaction traits' default methods are written on.
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait TxExec {
    /// How many rows it touched.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64>;
}

/// Reads rows of a shared `$n` statement on the open transaction, each a
/// tuple of its columns (`(T,)` for one).
#[allow(async_fn_in_trait)] // only ever used with the two concrete backends
pub trait TxRead<T> {
    async fn all_rows(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<T>>;
    async fn first_row(&mut self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Option<T>>;
}

/// The first row, if any (the generic form picks which [`TxRead`] by `T`).
pub async fn first_row<T, I: TxRead<T> + ?Sized>(
    io: &mut I,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    io.first_row(sql, args).await
}

/// The first column of the first row, if any.
pub async fn first_value<T, I: TxRead<(T,)> + ?Sized>(
    io: &mut I,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Option<T>> {
    Ok(io.first_row(sql, args).await?.map(|(v,)| v))
}

/// The first column of every row.
pub async fn column<T, I: TxRead<(T,)> + ?Sized>(
    io: &mut I,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<Vec<T>> {
    let rows = io.all_rows(sql, args).await?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

/// Gives the shared domain code the backend's [`Db`]. Every backend implements
/// it; the domain traits' default methods run their SQL through it.
pub trait HasDb: Send + Sync + 'static {
    fn db(&self) -> &Db;
}

/// Maps sqlx errors to the store's: no row → `NotFound`, unique violation →
/// `Conflict`, data the database refuses → `Rejected`. Both backends use it for
/// their own queries too.
pub fn err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_owned())
        }
        // PostgreSQL class 22 (data exception, e.g. NUL in text) and 23
        // (integrity constraint): the data, not the database, is at fault.
        // SQLite's numeric codes mean something else, hence the downcast.
        sqlx::Error::Database(d)
            if d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some_and(|pg| pg.code().starts_with("22") || pg.code().starts_with("23")) =>
        {
            StoreError::Rejected(d.message().to_owned())
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
