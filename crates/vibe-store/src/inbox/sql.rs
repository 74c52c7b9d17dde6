//! Statements with more parameters than the `Db` tuple helpers take, or a
//! number known only at run time (filters): the values are a `Vec<Val>`
//! bound in order, the same on both backends.

use crate::db::{err, on_db, Db, Row};
use crate::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    /// Only from a custom segment's criteria (`users::SqlValue::Real`).
    Real(f64),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Self::Text(s.clone())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Self {
        Self::OptText(s)
    }
}
impl From<&Option<String>> for Val {
    fn from(s: &Option<String>) -> Self {
        Self::OptText(s.clone())
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
impl From<Option<i64>> for Val {
    fn from(i: Option<i64>) -> Self {
        Self::OptInt(i)
    }
}
impl From<crate::users::SqlValue> for Val {
    fn from(v: crate::users::SqlValue) -> Self {
        match v {
            crate::users::SqlValue::Text(s) => Self::Text(s),
            crate::users::SqlValue::Int(i) => Self::Int(i),
            crate::users::SqlValue::Real(f) => Self::Real(f),
        }
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Self::Int(i64::from(b))
    }
}

/// Binds `$vals` in order onto a sqlx query of either backend.
macro_rules! bind_vals {
    ($q:expr, $vals:expr) => {{
        let mut q = $q;
        for v in $vals {
            q = match v {
                $crate::inbox::sql::Val::Text(s) => q.bind(s.clone()),
                $crate::inbox::sql::Val::OptText(s) => q.bind(s.clone()),
                $crate::inbox::sql::Val::Int(i) => q.bind(*i),
                $crate::inbox::sql::Val::OptInt(i) => q.bind(*i),
                $crate::inbox::sql::Val::Real(f) => q.bind(*f),
            };
        }
        q
    }};
}
pub(crate) use bind_vals;

/// Runs one statement on the open transaction `$tx`; rows touched.
macro_rules! tx_exec {
    ($tx:ident, $sql:expr, $vals:expr) => {
        $crate::inbox::sql::bind_vals!(sqlx::query($sql), $vals)
            .execute(&mut *$tx)
            .await
            .map(|r| r.rows_affected())
            .map_err($crate::db::err)
    };
}
pub(crate) use tx_exec;

/// The first row of a statement on the open transaction `$tx`, if any.
macro_rules! tx_optional {
    ($tx:ident, $ty:ty, $sql:expr, $vals:expr) => {
        $crate::inbox::sql::bind_vals!(sqlx::query_as::<_, $ty>($sql), $vals)
            .fetch_optional(&mut *$tx)
            .await
            .map_err($crate::db::err)
    };
}
pub(crate) use tx_optional;

pub(crate) async fn all<T: Row>(db: &Db, sql: &str, vals: &[Val]) -> StoreResult<Vec<T>> {
    on_db!(db, pool => bind_vals!(sqlx::query_as::<_, T>(sql), vals).fetch_all(pool).await)
        .map_err(err)
}

pub(crate) async fn optional<T: Row>(db: &Db, sql: &str, vals: &[Val]) -> StoreResult<Option<T>> {
    on_db!(db, pool => bind_vals!(sqlx::query_as::<_, T>(sql), vals).fetch_optional(pool).await)
        .map_err(err)
}

pub(crate) async fn execute(db: &Db, sql: &str, vals: &[Val]) -> StoreResult<u64> {
    on_db!(db, pool => bind_vals!(sqlx::query(sql), vals)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(err)
}

/// An open write transaction of either backend (`pool.begin_write()`), so a
/// helper that must run inside another statement's transaction — the
/// reporting facts of [`super::reporting`] — is one plain function, not one
/// body per backend.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub(crate) async fn begin(db: &Db) -> StoreResult<Self> {
        use crate::db::BeginWrite;
        Ok(match db {
            Db::Sqlite(p) => Self::Sqlite(p.begin_write().await.map_err(err)?),
            Db::Postgres(p) => Self::Postgres(p.begin_write().await.map_err(err)?),
        })
    }

    /// Runs one statement; rows touched.
    pub(crate) async fn exec(&mut self, sql: &str, vals: &[Val]) -> StoreResult<u64> {
        match self {
            Self::Sqlite(tx) => bind_vals!(sqlx::query(sql), vals)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected())
                .map_err(err),
            Self::Postgres(tx) => bind_vals!(sqlx::query(sql), vals)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected())
                .map_err(err),
        }
    }

    pub(crate) async fn optional<T: Row>(
        &mut self,
        sql: &str,
        vals: &[Val],
    ) -> StoreResult<Option<T>> {
        match self {
            Self::Sqlite(tx) => bind_vals!(sqlx::query_as::<_, T>(sql), vals)
                .fetch_optional(&mut **tx)
                .await
                .map_err(err),
            Self::Postgres(tx) => bind_vals!(sqlx::query_as::<_, T>(sql), vals)
                .fetch_optional(&mut **tx)
                .await
                .map_err(err),
        }
    }

    pub(crate) async fn all<T: Row>(&mut self, sql: &str, vals: &[Val]) -> StoreResult<Vec<T>> {
        match self {
            Self::Sqlite(tx) => bind_vals!(sqlx::query_as::<_, T>(sql), vals)
                .fetch_all(&mut **tx)
                .await
                .map_err(err),
            Self::Postgres(tx) => bind_vals!(sqlx::query_as::<_, T>(sql), vals)
                .fetch_all(&mut **tx)
                .await
                .map_err(err),
        }
    }

    pub(crate) async fn commit(self) -> StoreResult<()> {
        match self {
            Self::Sqlite(tx) => tx.commit().await.map_err(err),
            Self::Postgres(tx) => tx.commit().await.map_err(err),
        }
    }

    pub(crate) async fn rollback(self) -> StoreResult<()> {
        match self {
            Self::Sqlite(tx) => tx.rollback().await.map_err(err),
            Self::Postgres(tx) => tx.rollback().await.map_err(err),
        }
    }
}
