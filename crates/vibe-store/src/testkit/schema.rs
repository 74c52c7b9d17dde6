//! Reads a database's schema in a backend-neutral shape, so a test can prove the
//! two migration sets agree: same tables, same columns (names and nullability),
//! same indexes by name and columns. Types are not compared: they differ by
//! design (INTEGER vs BIGINT, INTEGER 0/1 vs BOOLEAN).

use std::collections::BTreeMap;

use crate::db::Db;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Column name → nullable.
    pub columns: BTreeMap<String, bool>,
    /// Index name → its columns in order (indexes that back a primary key or
    /// unique constraint are left out: their names are generated differently).
    pub indexes: BTreeMap<String, Vec<String>>,
}

/// Every table of the database (PostgreSQL: of the current schema).
pub async fn describe(db: &Db) -> BTreeMap<String, Table> {
    let tables: Vec<String> = db.scalars(per_backend(db, TABLES), ()).await.unwrap();
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<(String, bool)> =
            db.all(per_backend(db, COLUMNS), (&table,)).await.unwrap();
        let index_columns: Vec<(String, String)> = db
            .all(per_backend(db, INDEX_COLUMNS), (&table,))
            .await
            .unwrap();
        let mut indexes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (index, column) in index_columns {
            indexes.entry(index).or_default().push(column);
        }
        let columns = columns.into_iter().collect();
        out.insert(table, Table { columns, indexes });
    }
    out
}

/// The catalogues differ, so each question is asked once per backend: (SQLite, PostgreSQL).
type Catalogue = (&'static str, &'static str);

fn per_backend(db: &Db, (sqlite, postgres): Catalogue) -> &'static str {
    match db {
        Db::Sqlite(_) => sqlite,
        Db::Postgres(_) => postgres,
    }
}

/// Full-text search is backend-specific by design (migration 0028: an FTS5
/// virtual table on SQLite, an expression index on PostgreSQL, which the index
/// query below cannot name columns for): virtual tables and their `<name>_*`
/// shadow tables are left out.
const TABLES: Catalogue = (
    "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
       AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%'
         AND (m.name = v.name OR m.name LIKE v.name || '\\_%' ESCAPE '\\'))
     ORDER BY m.name",
    "SELECT table_name::text FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
);

/// Column name and whether it is nullable, of table `$1`. SQLite lets a
/// non-INTEGER primary key hold NULL unless declared NOT NULL; PostgreSQL makes
/// every key column NOT NULL. Key columns count as NOT NULL here, which is what
/// the schema means.
const COLUMNS: Catalogue = (
    "SELECT name, \"notnull\" = 0 AND pk = 0 FROM pragma_table_info($1)",
    "SELECT column_name::text, is_nullable::text = 'YES' FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1",
);

/// (index, column) of table `$1`'s indexes, in index then column order; those
/// backing a key or unique constraint are left out.
const INDEX_COLUMNS: Catalogue = (
    "SELECT m.name, i.name FROM sqlite_master m, pragma_index_info(m.name) i
     WHERE m.type = 'index' AND m.tbl_name = $1 AND m.name NOT LIKE 'sqlite_autoindex_%'
     ORDER BY m.name, i.seqno",
    "SELECT i.relname::text, a.attname::text
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_class t ON t.oid = x.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
     WHERE n.nspname = current_schema() AND t.relname = $1
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
     ORDER BY i.relname, k.ord",
);
