//! The database a subgraph owns: SQLite embedded by default (a file or in memory), reached
//! through sqlx's `Any` driver so the same SQL can later run on PostgreSQL.
//!
//! Every statement goes through [`Db`], which counts them: tests use the count to prove that
//! entity look-ups are batched (N representations, one query).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

/// A database error, with the statement or step that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database `{url}`: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error("query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// One schema migration: applied once, in version order, inside a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// A pooled connection to the subgraph's own database that counts the statements it runs.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    queries: Arc<AtomicU64>,
}

/// Turns what a user typed (a database URL, a plain file path, `:memory:` or nothing) into a
/// sqlx URL. A plain path is created if missing.
///
/// In-memory databases get a unique name with a shared cache: sqlx's `Any` driver opens every
/// pooled connection from the URL, and an unnamed `:memory:` would give each its own database.
pub fn database_url(spec: Option<&str>) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    match spec {
        None | Some("") | Some(":memory:") | Some("sqlite::memory:") => format!(
            "sqlite:file:weft-memory-{}-{}?mode=memory&cache=shared",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ),
        Some(s) if s.contains("://") || s.starts_with("sqlite:") => s.to_owned(),
        Some(path) => format!("sqlite://{path}?mode=rwc"),
    }
}

impl Db {
    /// Opens (and for SQLite files, creates) the database at `url`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // An in-memory SQLite database lives as long as one connection to it does, so keep
        // one open for the life of the pool.
        let options = AnyPoolOptions::new()
            .max_connections(if in_memory { 4 } else { 8 })
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        let pool = options.connect(url).await.map_err(|source| DbError::Open {
            url: url.to_owned(),
            source,
        })?;
        Ok(Db {
            pool,
            queries: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Applies the migrations not yet recorded in `weft_migrations`, in version order.
    pub async fn migrate(&self, migrations: &[Migration]) -> Result<(), DbError> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS weft_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM weft_migrations")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let mut pending: Vec<&Migration> = migrations
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .collect();
        pending.sort_by_key(|m| m.version);
        for m in pending {
            let fail = |source| DbError::Migration {
                version: m.version,
                name: m.name,
                source,
            };
            let mut tx = self.pool.begin().await.map_err(fail)?;
            sqlx::raw_sql(m.sql).execute(&mut *tx).await.map_err(fail)?;
            sqlx::query("INSERT INTO weft_migrations (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            tx.commit().await.map_err(fail)?;
        }
        Ok(())
    }

    /// Runs one query and returns its rows.
    pub async fn fetch_all(&self, sql: &str, binds: &[Bind]) -> Result<Vec<AnyRow>, DbError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let query = bound(sql, binds);
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// Runs one statement that returns no rows; returns the number of rows affected.
    pub async fn execute(&self, sql: &str, binds: &[Bind]) -> Result<u64, DbError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        let query = bound(sql, binds);
        Ok(query.execute(&self.pool).await?.rows_affected())
    }

    /// Runs several statements in one transaction (used for seeding).
    pub async fn execute_batch(&self, statements: &[(String, Vec<Bind>)]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for (sql, binds) in statements {
            self.queries.fetch_add(1, Ordering::Relaxed);
            bound(sql, binds).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether `table` has no rows (seeding runs only then). `table` is a constant of ours.
    pub async fn table_is_empty(&self, table: &str) -> Result<bool, DbError> {
        let rows = self
            .fetch_all(&format!("SELECT COUNT(*) FROM {table}"), &[])
            .await?;
        let count: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        Ok(count == 0)
    }

    /// How many statements this handle (and its clones) has run so far.
    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// A query with its `$n` placeholders bound, in order.
fn bound<'q>(sql: &'q str, binds: &[Bind]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = match bind {
            Bind::Text(s) => query.bind(s.clone()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query
}

/// `$1, $2, ... $n`: placeholders for an `IN (...)` list of `n` values.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(database_url(None).ends_with("?mode=memory&cache=shared"));
        assert_ne!(database_url(None), database_url(None));
        assert_eq!(database_url(Some("a.db")), "sqlite://a.db?mode=rwc");
        assert_eq!(database_url(Some("sqlite://x.db")), "sqlite://x.db");
        assert_eq!(placeholders(3), "$1, $2, $3");
    }

    #[tokio::test]
    async fn migrations_apply_once_and_queries_are_counted() {
        let db = Db::connect(&database_url(None)).await.unwrap();
        let migrations = [Migration {
            version: 1,
            name: "init",
            sql: "CREATE TABLE t (id TEXT PRIMARY KEY); INSERT INTO t VALUES ('a');",
        }];
        db.migrate(&migrations).await.unwrap();
        db.migrate(&migrations).await.unwrap();
        let before = db.query_count();
        let rows = db.fetch_all("SELECT id FROM t", &[]).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(db.query_count(), before + 1);
    }
}
