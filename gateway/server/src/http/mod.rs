//! The gateway's HTTP side (docs/http.md): the axum routes over the runtime being served —
//! GraphQL at `/graphql` (POST, and GET for queries), `GET /health` and `/ready`, `/metrics`,
//! the entity cache's invalidation endpoint, and for browsers the playground
//! (`playground.rs`) — behind the edge (`edge.rs`), on the server's own accept loop
//! (`connections.rs`). `weft serve` (`cli::serve`) builds the runtime and serves it here.

mod chunked;
pub(crate) mod connections;
pub(crate) mod csrf;
mod edge;
mod events;
pub(crate) mod health;
mod invalidation;
mod metrics;
mod multipart;
mod playground;
pub(crate) mod request;
mod shedding;
mod websocket;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use tracing::Instrument;
use weft_config::Config;
use weft_executor::{ErrorCode, GraphQLError};
use weft_federation::{Supergraph, SupergraphError};

use crate::observability::metrics::Metrics;
use crate::observability::telemetry;
use crate::runtime::response_body::ResponseBody;
use crate::runtime::{Live, RuntimeError, SchemaRuntime, apq, auth, pipeline};
use request::{MediaType, Parsed};

/// Why [`serve_on`] could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The supergraph uses features the gateway cannot execute.
    #[error(transparent)]
    NotExecutable(#[from] SupergraphError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Serves `supergraph` on `listener` until `shutdown` resolves (used by `weft demo`).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    supergraph: Supergraph,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    supergraph.check_executable("demo supergraph")?;
    let mut config = Config::default();
    // The demo is for exploring: plans are on.
    config.query_plan.expose = true;
    let metrics = Arc::new(Metrics::new());
    let schema = SchemaRuntime::new(Arc::new(supergraph), Arc::new(config), metrics)?;
    let live = Arc::new(Live::new(schema));
    connections::serve(listener, router(live.clone()), live, async {
        shutdown.await;
        health::begin_shutdown();
    })
    .await;
    Ok(())
}

/// What the routes share: the runtime being served, and the APQ store (which outlives
/// reloads while its size stays the same).
struct Gateway {
    live: Arc<Live>,
    apq: apq::ApqStore,
    /// Where GraphQL requests are worked on, apart from the runtime that accepts connections
    /// and answers `/health` (`weft serve`); `None`: on the caller's runtime.
    work: Option<tokio::runtime::Handle>,
}

/// The gateway's HTTP routes over the runtime being served, behind the edge: header limit,
/// CORS and response compression (`edge.rs`).
pub fn router(live: Arc<Live>) -> Router {
    router_working_on(live, None)
}

/// [`router`], with GraphQL requests worked on by the runtime `work` (see [`offload`]).
pub(crate) fn router_working_on(live: Arc<Live>, work: Option<tokio::runtime::Handle>) -> Router {
    let apq = apq::ApqStore::new(live.current().config.apq.cache_size.get());
    let state = Arc::new(Gateway {
        live: live.clone(),
        apq,
        work,
    });
    // Metrics count every GraphQL answer (the routes above the layer); /metrics, /health
    // and /ready are not GraphQL and are not counted.
    let observed = Router::new()
        .route("/graphql", get(graphql).post(graphql))
        .route("/", get(graphql).post(graphql))
        .route_layer(axum::middleware::from_fn_with_state(
            live.clone(),
            metrics::track,
        ))
        // A browser navigating to `/` or `/graphql` gets the playground page, outside the
        // metrics: it is not a GraphQL request.
        .layer(axum::middleware::from_fn_with_state(
            live.clone(),
            playground::intercept,
        ))
        // A WebSocket upgrade at the GraphQL path: a connection of its own.
        .layer(axum::middleware::from_fn_with_state(
            live.clone(),
            websocket::intercept,
        ))
        .with_state(state);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics_handler))
        .route(
            "/admin/entity-cache/invalidate",
            axum::routing::post(invalidation::invalidate),
        )
        .route("/playground/{file}", get(playground::asset))
        .with_state(live.clone())
        .merge(observed)
        .layer(edge::compression())
        .layer(axum::middleware::from_fn_with_state(live, edge::edge))
}

/// One GraphQL-over-HTTP request: the response media type from `Accept` (406 if none fits),
/// CSRF prevention (400 `CSRF_ERROR`), the body within `limits.max_body_bytes` (413), the
/// request itself (415 for other content types, 400 for malformed ones), then persisted
/// documents and the pipeline, once or for each request of a batch. See docs/http.md.
async fn graphql(
    State(gateway): State<Arc<Gateway>>,
    peer: Option<axum::Extension<connections::ClientAddr>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let server = gateway.live.current().config.server.clone();
    let media = request::negotiate(&headers).unwrap_or(MediaType::Json);
    // Shed before any work: the request is refused whole, at once.
    let Some(_admitted) = shedding::admit(server.max_in_flight()) else {
        let mut response = refuse(
            media,
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerOverloaded,
            format!(
                "The gateway is handling its limit of {} requests at once \
                 (`server.max_in_flight`); try again shortly.",
                server.max_in_flight
            ),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let span = telemetry::request_span(&method, &headers);
    let work = gateway.work.clone();
    let peer = peer.map(|axum::Extension(addr)| addr.0);
    let answering = answer(gateway, peer, method, headers, query, body).instrument(span);
    let answering = offload(work.as_ref(), _admitted, answering);
    let Some(limit) = server.request_timeout() else {
        return answering.await;
    };
    // Past the limit the request's future is dropped, and with it the work it was doing.
    match tokio::time::timeout(limit, answering).await {
        Ok(response) => response,
        Err(_) => refuse(
            media,
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::GatewayTimeout,
            format!(
                "The request took longer than {} ms (`server.request_timeout_ms`).",
                server.request_timeout_ms
            ),
        ),
    }
}

/// Runs a request's work on the `work` runtime, so that however much CPU it takes, the
/// runtime that accepts connections and answers `/health` is not the one it blocks (on two
/// cores a few CPU-bound requests would otherwise stall every connection). The request keeps
/// its in-flight slot (`admitted`) until its work really ends; dropping the returned future
/// (the client left, the request timed out) aborts the work at its next await.
async fn offload(
    work: Option<&tokio::runtime::Handle>,
    admitted: shedding::Admitted,
    answering: impl Future<Output = Response> + Send + 'static,
) -> Response {
    let Some(runtime) = work else {
        let response = answering.await;
        return hold_while_streaming(response, admitted);
    };
    let mut task = AbortOnDrop(runtime.spawn(async move {
        let response = answering.await;
        hold_while_streaming(response, admitted)
    }));
    match (&mut task.0).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!("a request's work failed: {e}");
            refuse(
                MediaType::Json,
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InternalServerError,
                "The gateway failed to answer this request.".to_owned(),
            )
        }
    }
}

/// The request's in-flight slot, released now, or for an incremental response (`@defer`) when
/// its body ends: its work goes on until then, and `server.max_in_flight`
/// counts it.
fn hold_while_streaming(response: Response, admitted: shedding::Admitted) -> Response {
    let streaming = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        // A subscription's stream lasts as long as the client wants: it does not hold a slot
        // that queries need (subscriptions have limits of their own).
        .is_some_and(|t| t.starts_with("multipart/mixed") && t.contains("deferSpec"));
    if !streaming {
        drop(admitted);
        return response;
    }
    response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _held = &admitted;
            chunk
        }))
    })
}

/// A spawned task aborted when its handle is dropped unfinished.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response with one error and no `data`.
fn refuse(media: MediaType, status: StatusCode, code: ErrorCode, message: String) -> Response {
    respond(media, status, &GraphQLError::new(code, message).into())
}

/// [`graphql`] inside the request's span.
async fn answer(
    gateway: Arc<Gateway>,
    peer: Option<std::net::IpAddr>,
    method: Method,
    mut headers: HeaderMap,
    query: Option<String>,
    body: Body,
) -> Response {
    // This request's runtime to the end, even if a reload swaps another in meanwhile.
    let schema = gateway.live.current();
    // HEAD is a GET whose answer has no body (axum drops it): same rules, queries only.
    let method = if method == Method::HEAD {
        Method::GET
    } else {
        method
    };
    // A client accepting only `multipart/mixed` (or only a subscription's stream) gets JSON
    // where a response is one piece.
    let negotiated = request::negotiate(&headers).or_else(|| {
        (request::accepts_incremental(&headers) || request::subscription_format(&headers).is_some())
            .then_some(MediaType::Json)
    });
    let Some(media) = negotiated else {
        let body = GraphQLError::new(
            ErrorCode::NotAcceptable,
            "Accept application/graphql-response+json or application/json",
        );
        return respond(MediaType::Json, StatusCode::NOT_ACCEPTABLE, &body.into());
    };
    if let Err(rejection) = csrf::check(&headers, &schema.config.csrf) {
        return respond(media, rejection.status, &rejection.error().into());
    }
    // The token, once per HTTP request (a batch shares it).
    let identity = match schema.auth.authenticate(&headers).await {
        Ok(identity) => identity,
        Err(rejection) => return respond(media, rejection.status, &rejection.error.into()),
    };
    // Rate limits: after the token (a client may be keyed by a claim), before any work.
    let metrics: &dyn weft_executor::ExecutorMetrics = schema.metrics.as_ref();
    if let Err(refused) = schema
        .rate_limits
        .admit(&headers, &identity, peer, metrics)
        .await
    {
        return rate_limited(media, refused);
    }
    // Only the gateway sets these (from the identity just verified), whatever the client sent
    // and whatever the header rules propagate.
    weft_executor::headers::remove_owned(&mut headers, &schema.auth.owned_headers());
    // GET (and HEAD) requests are in the query string; a body they may have is not read.
    let body = if method == Method::GET {
        Bytes::new()
    } else {
        let limit = schema.config.limits.max_body_bytes.get();
        let reading = read_body(&headers, body, limit);
        let read = match schema.config.server.body_read_timeout() {
            Some(timeout) => tokio::time::timeout(timeout, reading)
                .await
                .unwrap_or_else(|_| Err(body_timeout(timeout))),
            None => reading.await,
        };
        match read {
            Ok(bytes) => bytes,
            Err(rejection) => return respond(media, rejection.status, &rejection.error().into()),
        }
    };
    let outcome = match request::parse(&method, &headers, query.as_deref(), &body) {
        Parsed::Request(req) => {
            let delivery = pipeline::Delivery {
                incremental: request::accepts_incremental(&headers),
                stream: request::subscription_format(&headers),
            };
            one(
                &gateway, &schema, &method, &headers, &identity, req, media, delivery,
            )
            .await
        }
        Parsed::Batch(items) => {
            batch(
                &gateway, &schema, &method, &headers, &identity, items, media,
            )
            .await
        }
        Parsed::Invalid(rejection) => pipeline::Outcome {
            status: rejection.status,
            body: rejection.error().into(),
        },
    };
    let outcome = match outcome.body {
        ResponseBody::Parts(payloads) => {
            return multipart::response(multipart::Spec::Defer, payloads);
        }
        ResponseBody::Events(payloads) => return events::response(payloads),
        body => pipeline::Outcome {
            status: outcome.status,
            body,
        },
    };
    let cap = schema.config.server.max_response_bytes();
    let mut response = respond_within(media, outcome.status, &outcome.body, cap);
    if outcome.status == StatusCode::METHOD_NOT_ALLOWED {
        // Only a mutation or subscription sent with GET gets here: it needs POST.
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// 429 `REQUEST_RATE_LIMITED` with `Retry-After` in whole seconds (rounded up).
fn rate_limited(media: MediaType, refused: crate::runtime::rate_limits::Refused) -> Response {
    let secs = weft_executor::rate_limit::retry_after_secs(refused.wait);
    let mut response = refuse(
        media,
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RequestRateLimited,
        format!(
            "Too many requests: the {} rate limit (`rate_limit.{}`) is reached; \
             try again in {secs} s.",
            refused.limit, refused.limit
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// A body not read within `timeout`: 408, and the connection closes (hyper does not reuse a
/// connection whose request body was left unread).
fn body_timeout(timeout: std::time::Duration) -> request::Rejection {
    request::Rejection::new(
        StatusCode::REQUEST_TIMEOUT,
        ErrorCode::BodyReadTimeout,
        format!(
            "The request body did not arrive within {} ms (`server.body_read_timeout_ms`).",
            timeout.as_millis()
        ),
    )
}

/// The body, up to `limit` bytes: over it (by `Content-Length` or as read), 413.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> Result<Bytes, request::Rejection> {
    let too_large = || {
        request::Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!(
                "The request body is over the limit of {limit} bytes (`limits.max_body_bytes`)."
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            request::Rejection::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                format!("the request body could not be read: {e}"),
            )
        })?;
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// One GraphQL request: persisted documents (APQ, safelist), then the pipeline.
/// `delivery`: how the client takes answers in parts (in a batch: it takes none).
#[allow(clippy::too_many_arguments)]
async fn one(
    gateway: &Gateway,
    schema: &Arc<SchemaRuntime>,
    method: &Method,
    headers: &HeaderMap,
    identity: &auth::Identity,
    mut req: request::GraphQLRequest,
    media: MediaType,
    delivery: pipeline::Delivery,
) -> pipeline::Outcome {
    let metrics = &schema.metrics;
    if let Err(outcome) = apq::resolve(&schema.config, &gateway.apq, metrics, &mut req).await {
        return outcome;
    }
    let exposure =
        match pipeline::PlanExposure::from_headers(headers, schema.config.query_plan.expose) {
            Ok(exposure) => exposure,
            Err(unknown) => {
                return pipeline::Outcome {
                    status: StatusCode::BAD_REQUEST,
                    body: GraphQLError::new(ErrorCode::InvalidQueryPlanHeader, unknown.to_string())
                        .into(),
                };
            }
        };
    pipeline::run(
        schema, method, req, media, exposure, headers, identity, delivery,
    )
    .await
}

/// A batch (a JSON array body): refused unless `batching.enabled`, or when over
/// `batching.max_size`; otherwise every request runs (concurrently) and the answer is 200
/// with their results in order, each what it would have been alone without its status.
async fn batch(
    gateway: &Gateway,
    schema: &Arc<SchemaRuntime>,
    method: &Method,
    headers: &HeaderMap,
    identity: &auth::Identity,
    items: Vec<Result<request::GraphQLRequest, request::Rejection>>,
    media: MediaType,
) -> pipeline::Outcome {
    let config = &schema.config.batching;
    let refuse = |code: ErrorCode, message: String| pipeline::Outcome {
        status: StatusCode::BAD_REQUEST,
        body: GraphQLError::new(code, message).into(),
    };
    if !config.enabled {
        return refuse(
            ErrorCode::BatchingNotEnabled,
            "Batched requests (a JSON array body) are not enabled on this gateway \
             (`batching.enabled`)."
                .to_owned(),
        );
    }
    let max = config.max_size.get() as usize;
    if items.len() > max {
        return refuse(
            ErrorCode::BatchLimitExceeded,
            format!(
                "The batch has {} requests, over the limit of {max} (`batching.max_size`).",
                items.len()
            ),
        );
    }
    let results = futures::future::join_all(items.into_iter().map(|item| async move {
        match item {
            Ok(req) => {
                one(
                    gateway,
                    schema,
                    method,
                    headers,
                    identity,
                    req,
                    media,
                    pipeline::Delivery::default(),
                )
                .await
                .body
            }
            Err(rejection) => rejection.error().into(),
        }
    }))
    .await;
    pipeline::Outcome {
        status: StatusCode::OK,
        body: ResponseBody::Batch(results),
    }
}

/// A JSON body with `Content-Type: <media>; charset=utf-8`.
fn respond(media: MediaType, status: StatusCode, body: &ResponseBody) -> Response {
    respond_within(media, status, body, None)
}

/// [`respond`], unless the body is over `cap` bytes: then 500 `RESPONSE_TOO_LARGE` instead
/// (the client gets no part of it; the error is counted in the metrics like any other).
fn respond_within(
    media: MediaType,
    status: StatusCode,
    body: &ResponseBody,
    cap: Option<u64>,
) -> Response {
    let text = chunked::Pieces::new(body.chunks());
    if let Some(cap) = cap
        && text.byte_len() > cap
    {
        tracing::warn!(
            bytes = text.byte_len(),
            limit = cap,
            "response over server.max_response_bytes: not sent"
        );
        let refusal = GraphQLError::new(
            ErrorCode::ResponseTooLarge,
            format!("The response is over the limit of {cap} bytes (`server.max_response_bytes`)."),
        );
        return respond(media, StatusCode::INTERNAL_SERVER_ERROR, &refusal.into());
    }
    let codes = body.error_codes();
    let mut response = (status, Body::new(text)).into_response();
    response.extensions_mut().insert(codes);
    if let Ok(value) = HeaderValue::from_str(&format!("{}; charset=utf-8", media.as_str())) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
