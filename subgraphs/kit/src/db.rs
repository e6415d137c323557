//! The database a subgraph owns: SQLite embedded by default (a file or in memory), PostgreSQL
//! when given a `postgres://` URL, both reached through sqlx's `Any` driver so the same SQL runs
//! on either. On PostgreSQL each service lives in its own schema (see [`Db::connect_in`]).
//!
//! Every statement goes through [`Db`], which counts them: tests use the count to prove that
//! entity look-ups are batched (N representations, one query).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};
use tokio::sync::broadcast;

use crate::notices::{Notice, Notices};

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
    #[error("invalid schema name `{0}`: use letters, digits and `_`")]
    SchemaName(String),
}

impl DbError {
    /// Whether the statement broke a primary-key or unique constraint (optimistic concurrency
    /// and idempotency checks rely on it, on SQLite and PostgreSQL alike).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Query(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

/// Which database server a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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
    /// A nullable text column.
    OptText(Option<String>),
}

/// A pooled connection to the subgraph's own database that counts the statements it runs.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    queries: Arc<AtomicU64>,
    backend: Backend,
    /// Shared by every clone (counted or not): see [`crate::notices`].
    notices: Notices,
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
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
        Some(s) if s.contains("://") || s.starts_with("sqlite:") || s.starts_with("postgres") => {
            s.to_owned()
        }
        Some(path) => format!("sqlite://{path}?mode=rwc"),
    }
}

impl Db {
    /// Opens (and for SQLite files, creates) the database at `url`.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_in(url, None).await
    }

    /// Like [`Db::connect`]; on PostgreSQL with `schema`, creates that schema if missing and
    /// points every pooled connection's `search_path` at it, so each service owns its tables
    /// (and tests get a fresh schema each) in one shared server. Ignored for SQLite, whose file
    /// already belongs to one service.
    pub async fn connect_in(url: &str, schema: Option<&str>) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let open_error = |source| DbError::Open {
            url: url.to_owned(),
            source,
        };
        if is_postgres(url) {
            let schema = match schema {
                Some(s) => valid_schema(s)?,
                None => "public".to_owned(),
            };
            // Every pooled connection starts in the service's schema (`options[search_path]`
            // is sent at connection start-up, so no statement can run before it applies).
            let separator = if url.contains('?') { '&' } else { '?' };
            let scoped_url = format!("{url}{separator}options[search_path]={schema}");
            if schema != "public" {
                let setup = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await
                    .map_err(open_error)?;
                sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .execute(&setup)
                    .await
                    .or_else(ignore_concurrent_create)?;
                setup.close().await;
            }
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .connect(&scoped_url)
                .await
                .map_err(open_error)?;
            return Ok(Db {
                pool,
                queries: Arc::new(AtomicU64::new(0)),
                backend: Backend::Postgres,
                notices: Notices::default(),
            });
        }
        // One connection: SQLite allows one writer at a time, and in shared-cache (in-memory)
        // mode a reader meeting a writer fails at once with "table is locked" instead of
        // waiting. Serialising statements through one connection makes the outbox relay,
        // event consumers and requests safe together. It also keeps an in-memory database
        // alive: it lives as long as one connection to it does.
        let options = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None);
        let pool = options.connect(url).await.map_err(open_error)?;
        Ok(Db {
            pool,
            queries: Arc::new(AtomicU64::new(0)),
            backend: Backend::Sqlite,
            notices: Notices::default(),
        })
    }

    /// The same database, with a statement count of its own: background work (the outbox
    /// relay, event consumers) uses it so the count keeps measuring request work.
    pub fn uncounted(&self) -> Db {
        Db {
            pool: self.pool.clone(),
            queries: Arc::new(AtomicU64::new(0)),
            backend: self.backend,
            notices: self.notices.clone(),
        }
    }

    /// The server behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction: statements run through it commit or roll back together.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(Tx {
            tx: self.pool.begin().await?,
            queries: self.queries.clone(),
            notices: self.notices.clone(),
            pending: Vec::new(),
        })
    }

    /// Every [`Notice`] committed through this handle or its clones from now on, in commit
    /// order (see [`crate::notices`]).
    pub fn listen(&self) -> broadcast::Receiver<Arc<Notice>> {
        self.notices.listen()
    }

    /// Closes the pool (a restarted service must not share connections with its old self).
    pub async fn close(&self) {
        self.pool.close().await;
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

/// A transaction on a [`Db`]; rolled back when dropped without [`Tx::commit`].
#[derive(Debug)]
pub struct Tx {
    tx: sqlx::Transaction<'static, Any>,
    queries: Arc<AtomicU64>,
    notices: Notices,
    /// Told to the listeners once the transaction commits; dropped with it otherwise.
    pending: Vec<Notice>,
}

impl Tx {
    /// Runs one query inside the transaction and returns its rows.
    pub async fn fetch_all(&mut self, sql: &str, binds: &[Bind]) -> Result<Vec<AnyRow>, DbError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        Ok(bound(sql, binds).fetch_all(&mut *self.tx).await?)
    }

    /// Runs one statement inside the transaction; returns the number of rows affected.
    pub async fn execute(&mut self, sql: &str, binds: &[Bind]) -> Result<u64, DbError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        Ok(bound(sql, binds)
            .execute(&mut *self.tx)
            .await?
            .rows_affected())
    }

    /// Tells `notice` to the database's listeners ([`Db::listen`]) if and once the transaction
    /// commits.
    pub fn notify(&mut self, notice: Notice) {
        self.pending.push(notice);
    }

    /// Makes every statement of the transaction durable, together; then tells its notices.
    pub async fn commit(self) -> Result<(), DbError> {
        let Tx {
            tx,
            notices,
            pending,
            ..
        } = self;
        notices
            .commit_then_send(async { Ok(tx.commit().await?) }, pending)
            .await
    }
}

/// A schema name we splice into SQL: only `[A-Za-z0-9_]`, not starting with a digit.
fn valid_schema(name: &str) -> Result<String, DbError> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(DbError::SchemaName(name.to_owned()))
    }
}

/// Two services (or tests) creating the same schema at once: PostgreSQL may report a unique
/// violation for `CREATE SCHEMA IF NOT EXISTS`; the schema exists either way.
fn ignore_concurrent_create(err: sqlx::Error) -> Result<sqlx::any::AnyQueryResult, DbError> {
    match &err {
        sqlx::Error::Database(e) if e.is_unique_violation() => Ok(Default::default()),
        _ => Err(DbError::Query(err)),
    }
}

/// A query with its `$n` placeholders bound, in order.
fn bound<'q>(sql: &'q str, binds: &[Bind]) -> Query<'q, Any, AnyArguments<'q>> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = match bind {
            Bind::Text(s) => query.bind(s.clone()),
            Bind::Int(i) => query.bind(*i),
            Bind::OptText(s) => query.bind(s.clone()),
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

    #[tokio::test]
    async fn notices_are_told_once_their_transaction_commits_and_never_on_rollback() {
        let db = Db::connect(&database_url(None)).await.unwrap();
        db.migrate(&[Migration {
            version: 1,
            name: "init",
            sql: "CREATE TABLE t (id TEXT PRIMARY KEY);",
        }])
        .await
        .unwrap();
        // A clone with its own count shares the listeners.
        let mut notices = db.uncounted().listen();
        let notice = |key: &str| Notice {
            topic: "Changed",
            key: key.to_owned(),
            payload: serde_json::json!({ "key": key }),
        };

        let mut rolled_back = db.begin().await.unwrap();
        rolled_back
            .execute("INSERT INTO t VALUES ('a')", &[])
            .await
            .unwrap();
        rolled_back.notify(notice("a"));
        drop(rolled_back);

        let mut committed = db.begin().await.unwrap();
        committed
            .execute("INSERT INTO t VALUES ('b')", &[])
            .await
            .unwrap();
        committed.notify(notice("b"));
        assert!(notices.try_recv().is_err(), "nothing before the commit");
        committed.commit().await.unwrap();

        let told = notices.try_recv().unwrap();
        assert_eq!(*told, notice("b"));
        assert!(
            notices.try_recv().is_err(),
            "the rolled-back notice is never told"
        );
    }
}
