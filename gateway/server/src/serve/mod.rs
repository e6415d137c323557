//! `weft serve --supergraph FILE --listen HOST:PORT`: the gateway. GraphQL at `/graphql`
//! (POST, and GET for queries), `GET /health` once the schema is loaded.

mod csrf;
mod engine;
mod exec;
mod pipeline;
mod request;
mod runtime;
mod shape;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use weft_federation::Supergraph;

use crate::report;
use request::{MediaType, Parsed};
use runtime::SchemaRuntime;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The supergraph SDL to serve.
    #[arg(long)]
    pub supergraph: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    pub listen: SocketAddr,
    /// Per-subgraph request timeout, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub subgraph_timeout_ms: u64,
    /// Let clients ask for the query plan with the request header
    /// `weft-query-plan: include` (plan in `extensions.queryPlan`) or `dry-run` (plan only,
    /// nothing executed). Off by default: plans describe the subgraphs behind the gateway.
    #[arg(long, env = "WEFT_EXPOSE_QUERY_PLANS")]
    pub expose_query_plans: bool,
}

pub fn run(args: ServeArgs) -> ExitCode {
    weft_subgraph_kit::cli::init_logging();
    let name = args.supergraph.display().to_string();
    let sdl = match std::fs::read_to_string(&args.supergraph) {
        Ok(sdl) => sdl,
        Err(e) => {
            eprintln!(
                "error: {name}: {e}\n  hint: pass --supergraph with a supergraph .graphql file"
            );
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    let supergraph = match Supergraph::parse(&sdl, &name) {
        Ok(s) => s,
        Err(e) => {
            report::supergraph_error(&e);
            return ExitCode::from(report::INPUT_ERROR);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let schema =
            match SchemaRuntime::new(supergraph, Duration::from_millis(args.subgraph_timeout_ms)) {
                Ok(mut s) => {
                    s.expose_plans = args.expose_query_plans;
                    Arc::new(s)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "error: cannot listen on {}: {e}\n  hint: pick a free address with --listen",
                    args.listen
                );
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(args.listen);
        tracing::info!(listen = %addr, supergraph = %name, "weft gateway ready");
        println!("weft serving {name} at http://{addr}/graphql");
        let server = axum::serve(listener, router(schema)).with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        match server.await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Serves `supergraph` on `listener` until `shutdown` resolves (used by `weft demo`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    supergraph: Supergraph,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let mut schema = SchemaRuntime::new(supergraph, Duration::from_secs(30))?;
    // The demo is for exploring: plans are on.
    schema.expose_plans = true;
    let schema = Arc::new(schema);
    axum::serve(listener, router(schema))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| e.to_string())
}

/// The gateway's HTTP routes over one schema runtime.
pub fn router(schema: Arc<SchemaRuntime>) -> Router {
    Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/", get(graphql).post(graphql))
        .route("/health", get(|| async { "ok" }))
        .with_state(schema)
}

/// One GraphQL-over-HTTP request: the response media type from `Accept` (406 if none fits),
/// CSRF prevention (400 `CSRF_ERROR`), the request itself (415 for other content types, 400 for
/// malformed ones), then the pipeline. See docs/http.md.
async fn graphql(
    State(schema): State<Arc<SchemaRuntime>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    // HEAD is a GET whose answer has no body (axum drops it): same rules, queries only.
    let method = if method == Method::HEAD {
        Method::GET
    } else {
        method
    };
    let Some(media) = request::negotiate(&headers) else {
        let body = serde_json::json!({ "errors": [{
            "message": "Accept application/graphql-response+json or application/json",
            "extensions": { "code": "NOT_ACCEPTABLE" },
        }] });
        return respond(MediaType::Json, StatusCode::NOT_ACCEPTABLE, &body);
    };
    let parsed = match csrf::check(&headers) {
        Ok(()) => request::parse(&method, &headers, query.as_deref(), &body),
        Err(rejection) => Parsed::Invalid(rejection),
    };
    let outcome = match parsed {
        Parsed::Request(req) => {
            let exposure = pipeline::PlanExposure::from_headers(&headers, schema.expose_plans);
            pipeline::run(&schema, &method, req, media, exposure).await
        }
        Parsed::Invalid(rejection) => pipeline::Outcome {
            status: rejection.status,
            body: rejection.body(),
        },
    };
    let mut response = respond(media, outcome.status, &outcome.body);
    if outcome.status == StatusCode::METHOD_NOT_ALLOWED {
        // Only a mutation or subscription sent with GET gets here: it needs POST.
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// A JSON body with `Content-Type: <media>; charset=utf-8`.
fn respond(media: MediaType, status: StatusCode, body: &serde_json::Value) -> Response {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|_| b"{\"errors\":[{\"message\":\"serialization failed\"}]}".to_vec());
    let mut response = (status, body).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("{}; charset=utf-8", media.as_str())) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
