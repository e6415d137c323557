//! The contract each reference subgraph crate fulfils, and how to run one.

use std::future::Future;
use std::net::SocketAddr;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::db::{Db, DbError, Migration, database_url, is_postgres};
use crate::events::Bus;
use crate::sse::{Stop, stop_signal};

/// What a running subgraph is given: its own database, the event bus, and where the services
/// it calls directly listen.
#[derive(Clone, Debug)]
pub struct Env {
    pub db: Db,
    pub bus: Bus,
    /// Other services' GraphQL URLs by subgraph name (e.g. orders calls `inventory`).
    pub peers: std::collections::BTreeMap<String, String>,
    /// The service's partitions when it shards its data (accounts, see [`open_shards`]);
    /// empty when all of it lives in `db`.
    pub shards: Vec<Db>,
    /// How long the service's slow field waits before answering (inventory's
    /// `Product.shippingEstimate`, to show `@defer`: `weft demo --slow-field-ms`); `None`: it
    /// answers at once.
    pub slow_field: Option<std::time::Duration>,
}

impl Env {
    /// `db` with a private in-process bus and no peers: a subgraph on its own.
    pub fn alone(db: Db) -> Env {
        Env {
            db,
            bus: Bus::in_process(),
            peers: Default::default(),
            shards: Vec::new(),
            slow_field: None,
        }
    }
}

/// A reference subgraph: its name, default port, database schema, demo data and GraphQL API.
pub trait Subgraph {
    /// The subgraph's name as used in the supergraph (`accounts`, `products`, ...).
    const NAME: &'static str;
    /// The port its binary listens on when none is given.
    const DEFAULT_PORT: u16;
    /// Its own database schema, in version order.
    const MIGRATIONS: &'static [Migration];

    /// Loads the deterministic demo data when the database is empty.
    fn seed(db: &Db) -> impl Future<Output = Result<(), DbError>> + Send;

    /// Loads the demo data into the shards of a partitioned service (see [`open_shards`]);
    /// services that do not shard ignore it.
    fn seed_shards(shards: &[Db]) -> impl Future<Output = Result<(), DbError>> + Send {
        let _ = shards;
        async { Ok(()) }
    }

    /// The HTTP router serving its GraphQL API over `db`.
    fn router(db: Db) -> Router;

    /// The HTTP router given the whole environment (services that publish events or call
    /// peers override it); by default [`Subgraph::router`].
    fn app(env: &Env) -> Router {
        Self::router(env.db.clone())
    }

    /// Background work started with the server (outbox relay, event consumers, recovery);
    /// aborted when it stops.
    fn background(env: &Env) -> Vec<JoinHandle<()>> {
        let _ = env;
        Vec::new()
    }

    /// Its federation SDL, as `{ _service { sdl } }` returns it.
    fn sdl() -> String;
}

/// Opens the subgraph's database (`None`: a fresh in-memory SQLite), migrates and seeds it.
pub async fn open<S: Subgraph>(database: Option<&str>) -> Result<Db, DbError> {
    open_in::<S>(database, None).await
}

/// Like [`open`]; on PostgreSQL the tables live in `schema` (default: the subgraph's name), so
/// services sharing one server still each own their data.
pub async fn open_in<S: Subgraph>(
    database: Option<&str>,
    schema: Option<&str>,
) -> Result<Db, DbError> {
    let url = database_url(database);
    let schema = is_postgres(&url).then(|| schema.unwrap_or(S::NAME));
    let db = Db::connect_in(&url, schema).await?;
    db.migrate(S::MIGRATIONS).await?;
    S::seed(&db).await?;
    Ok(db)
}

/// Opens `count` partitions of subgraph `S`'s database and migrates each; seeding is the
/// caller's ([`Subgraph::seed_shards`]), since a resharding target must stay empty. Shard `i` of a SQLite file `users.db` is `users.shard{i}.db`; of a
/// PostgreSQL schema `accounts`, schema `accounts_shard{i}`; in-memory shards are separate
/// in-memory databases.
pub async fn open_shards<S: Subgraph>(
    database: Option<&str>,
    schema: Option<&str>,
    count: usize,
) -> Result<Vec<Db>, DbError> {
    let base = database_url(database);
    let mut shards = Vec::with_capacity(count);
    for i in 0..count {
        let db = if is_postgres(&base) {
            let schema = format!("{}_shard{i}", schema.unwrap_or(S::NAME));
            Db::connect_in(&base, Some(&schema)).await?
        } else if base.contains("mode=memory") {
            Db::connect(&database_url(None)).await?
        } else {
            Db::connect(&shard_file(&base, i)).await?
        };
        db.migrate(S::MIGRATIONS).await?;
        shards.push(db);
    }
    Ok(shards)
}

/// The databases of subgraph `S`, migrated and seeded: with `shards` > 1, that many partitions
/// ([`open_shards`], seeded by [`Subgraph::seed_shards`]) and the first of them as its main
/// handle; otherwise one database ([`open_in`]) and no shards. What [`Env`] needs.
pub async fn open_layout<S: Subgraph>(
    database: Option<&str>,
    schema: Option<&str>,
    shards: usize,
) -> Result<(Db, Vec<Db>), DbError> {
    if shards <= 1 {
        return Ok((open_in::<S>(database, schema).await?, Vec::new()));
    }
    let dbs = open_shards::<S>(database, schema, shards).await?;
    S::seed_shards(&dbs).await?;
    match dbs.first() {
        Some(first) => Ok((first.clone(), dbs)),
        None => Ok((open_in::<S>(database, schema).await?, Vec::new())),
    }
}

/// `sqlite://dir/users.db?mode=rwc` → `sqlite://dir/users.shard2.db?mode=rwc`.
fn shard_file(url: &str, i: usize) -> String {
    let (path, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let name_start = path.rfind('/').map_or(0, |p| p + 1);
    match path[name_start..].rfind('.') {
        Some(dot) => {
            let dot = name_start + dot;
            format!("{}.shard{i}{}{query}", &path[..dot], &path[dot..])
        }
        None => format!("{path}.shard{i}{query}"),
    }
}

/// The GraphQL requests a subgraph received (bodies and headers kept only when asked for:
/// tests).
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    count: Arc<AtomicU64>,
    bodies: Option<Arc<Mutex<Vec<serde_json::Value>>>>,
    headers: Option<Arc<Mutex<Vec<HeaderMap>>>>,
}

impl RequestLog {
    /// How many `POST /graphql` requests arrived.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The request bodies, in arrival order (empty unless recording).
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.bodies
            .as_ref()
            .and_then(|b| b.lock().ok().map(|v| v.clone()))
            .unwrap_or_default()
    }

    /// The request headers of every `POST /graphql`, in arrival order (empty unless
    /// recording).
    pub fn headers(&self) -> Vec<HeaderMap> {
        self.headers
            .as_ref()
            .and_then(|h| h.lock().ok().map(|v| v.clone()))
            .unwrap_or_default()
    }
}

/// A subgraph serving in the background of this process; stops when dropped.
#[derive(Debug)]
pub struct Running {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub db: Db,
    /// Its partitions, when it shards its data.
    pub shards: Vec<Db>,
    pub requests: RequestLog,
    /// Ends the open event streams (subscriptions), which graceful shutdown would wait on.
    streams: Stop,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// The subgraph's GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// Stops serving and waits for the server task to finish.
    pub async fn stop(mut self) {
        for task in &self.background {
            task.abort();
        }
        self.streams.stop();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
        self.streams.stop();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves subgraph `S` over `db` on `listener` in a background task.
pub fn spawn<S: Subgraph>(listener: TcpListener, db: Db) -> std::io::Result<Running> {
    spawn_with::<S>(listener, db, false)
}

/// Like [`spawn`]; with `record`, every request's body and headers are kept in
/// [`Running::requests`].
pub fn spawn_with<S: Subgraph>(
    listener: TcpListener,
    db: Db,
    record: bool,
) -> std::io::Result<Running> {
    spawn_env::<S>(listener, Env::alone(db), record)
}

/// Serves subgraph `S` in `env` (shared bus, peers) on `listener`, with its background work.
pub fn spawn_env<S: Subgraph>(
    listener: TcpListener,
    env: Env,
    record: bool,
) -> std::io::Result<Running> {
    let db = env.db.clone();
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let requests = RequestLog {
        count: Arc::new(AtomicU64::new(0)),
        bodies: record.then(|| Arc::new(Mutex::new(Vec::new()))),
        headers: record.then(|| Arc::new(Mutex::new(Vec::new()))),
    };
    let (streams, stopping) = stop_signal();
    let app =
        S::app(&env)
            .layer(axum::Extension(stopping))
            .layer(axum::middleware::from_fn_with_state(
                requests.clone(),
                record_request,
            ));
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(err) = server.await {
            tracing::error!(subgraph = S::NAME, %err, "subgraph server failed");
        }
    });
    let background = S::background(&env);
    Ok(Running {
        name: S::NAME,
        addr,
        db,
        shards: env.shards.clone(),
        requests,
        streams,
        shutdown: Some(tx),
        task,
        background,
    })
}

/// Counts `POST /graphql` requests and, when recording, keeps their headers and JSON bodies.
async fn record_request(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    log.count.fetch_add(1, Ordering::Relaxed);
    if let Some(Ok(mut list)) = log.headers.as_ref().map(|h| h.lock()) {
        list.push(request.headers().clone());
    }
    let Some(bodies) = &log.bodies else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    if let (Ok(json), Ok(mut list)) = (serde_json::from_slice(&bytes), bodies.lock()) {
        list.push(json);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::shard_file;

    #[test]
    fn shard_files_sit_beside_the_database() {
        assert_eq!(
            shard_file("sqlite://d/users.db?mode=rwc", 2),
            "sqlite://d/users.shard2.db?mode=rwc"
        );
        assert_eq!(shard_file("sqlite://users", 0), "sqlite://users.shard0");
    }
}
