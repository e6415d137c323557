//! `GET /health` and `GET /ready` (docs/observability.md). `/health` answers 200 while the
//! process serves at all (liveness). `/ready` answers 200 once the gateway serves (the router
//! exists only after the supergraph loaded) and 503 from the moment shutdown begins, so a load
//! balancer stops sending new requests while those in flight finish. Its JSON body says which
//! supergraph is live (sha256, when it was loaded, from where), so an operator can see every
//! replica converge on a new one.
//!
//! Readiness belongs to the process, which is what shuts down: one flag for all its routers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::runtime::Live;

static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// From now on `/ready` answers 503.
pub fn begin_shutdown() {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
}

/// Whether shutdown has begun.
pub fn shutting_down() -> bool {
    SHUTTING_DOWN.load(Ordering::SeqCst)
}

/// `GET /ready`: 200 `{"status": "ready", "supergraph": {...}}` while serving, 503 with
/// `"status": "shutting down"` once shutdown began.
pub async fn ready(State(live): State<Arc<Live>>) -> Response {
    let (status, text) = if shutting_down() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        (StatusCode::OK, "ready")
    };
    let supergraph = live
        .version()
        .map_or(serde_json::Value::Null, |v| v.to_json());
    let body = serde_json::json!({ "status": text, "supergraph": supergraph });
    (status, Json(body)).into_response()
}

/// Resolves when the process is asked to stop (Ctrl-C / SIGINT, or SIGTERM on Unix): marks the
/// gateway not ready, waits `drain` (time for load balancers to see `/ready` fail while the
/// gateway still accepts requests), then returns so graceful shutdown starts.
pub async fn shutdown_signal(drain: Duration) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    begin_shutdown();
    tracing::info!(drain_ms = drain.as_millis() as u64, "shutting down");
    if !drain.is_zero() {
        tokio::time::sleep(drain).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn ready_until_shutdown_begins() {
        let supergraph = weft_federation::Supergraph::parse(
            include_str!("../../../../schema/supergraph.graphql"),
            "supergraph.graphql",
        )
        .unwrap();
        let runtime = crate::runtime::SchemaRuntime::new(
            Arc::new(supergraph),
            Arc::new(weft_config::Config::default()),
            Arc::new(crate::observability::metrics::Metrics::new()),
        )
        .unwrap();
        let live = Arc::new(Live::new(runtime));
        // The only test that touches the process-wide flag.
        assert_eq!(ready(State(live.clone())).await.status(), StatusCode::OK);
        begin_shutdown();
        assert_eq!(
            ready(State(live)).await.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
