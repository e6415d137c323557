//! Subscriptions as the server runs them: subscribe on the root field's subgraph, and per
//! event run the rest of the plan and shape the result; a stream cut before the subgraph
//! completed it is opened again with backoff.

use bytes::Bytes;
use tracing::Instrument;

use super::{Engine, Execution};
use crate::exec::Executor;
use crate::shape::shape;

/// One event of a subscription, shaped: the client's `data` and the errors met.
pub struct Event {
    pub data: Bytes,
    pub errors: Vec<crate::ResponseError>,
}

impl Engine {
    /// Subscribes on the subgraph of `run`'s plan (a [`PlanNode::Subscription`]) and, for
    /// each event it sends, runs the rest of the plan and hands the shaped result to `send`,
    /// in order. Returns when the subgraph completes the subscription (`Ok`), when it cannot be
    /// reached or its stream breaks (the error to end with), or when `send` says the client
    /// is gone (`false`).
    pub async fn subscribe(
        &self,
        run: Execution<'_>,
        send: &mut (dyn FnMut(Event) -> bool + Send),
    ) -> Result<(), crate::GraphQLError> {
        use crate::error::{ErrorCode, GraphQLError};
        use crate::subscription::Source;
        let Execution {
            plan,
            operation,
            variables,
            api,
            headers,
            forwarded,
            max_bytes,
        } = run;
        let failed = |why: String| GraphQLError::new(ErrorCode::SubrequestHttpError, why);
        let Some(primary) = Executor::subscription_fetch(plan) else {
            return Err(GraphQLError::new(
                ErrorCode::InternalServerError,
                "not a subscription's plan",
            ));
        };
        let Some(request) = self
            .executor
            .subscription_request(primary, variables, headers, forwarded)
        else {
            return Err(failed(format!(
                "no URL is configured for subgraph `{}`",
                primary.subgraph
            )));
        };
        let client = match self.streams.get() {
            Some(c) => c.clone(),
            None => {
                let made = crate::subscription::client()
                    .map_err(|e| failed(format!("the subscription client: {e}")))?;
                self.streams.get_or_init(|| made).clone()
            }
        };
        // A stream cut before the subgraph completed it is opened again, after a pause
        // that doubles (with jitter) up to a few seconds; the attempts start over once an
        // event comes through.
        let mut attempt: u32 = 0;
        loop {
            let opened = Source::open(
                &client,
                &request.url,
                request.body.clone(),
                &request.headers,
                request.max_event_bytes,
            )
            .await;
            let why = match opened {
                Ok(mut source) => {
                    let mut broke = None;
                    while let Some(event) = source.next().await {
                        let event = match event {
                            Ok(event) => event,
                            Err(e) => {
                                broke = Some(format!("broke: {e}"));
                                break;
                            }
                        };
                        attempt = 0;
                        let output = self
                            .executor
                            .execute_event(plan, event, variables, headers, forwarded)
                            .instrument(tracing::info_span!(
                                "graphql.subscription.event",
                                graphql.operation.name = operation.name.as_deref().unwrap_or(""),
                            ))
                            .await;
                        let mut errors = output.errors;
                        let mut data = shape(
                            operation,
                            &output.data,
                            variables,
                            api,
                            &mut errors,
                            max_bytes,
                        );
                        // Written past the cap, the data is cut (not JSON): the event says so.
                        if let Some(max) = max_bytes.filter(|m| data.len() > *m) {
                            data = b"null".to_vec();
                            errors.push(
                                GraphQLError::new(
                                    ErrorCode::ResponseTooLarge,
                                    format!(
                                        "The event's data is over {max} bytes \
                                         (`server.max_response_bytes`)."
                                    ),
                                )
                                .into(),
                            );
                        }
                        if !send(Event {
                            data: Bytes::from(data),
                            errors,
                        }) {
                            return Ok(());
                        }
                    }
                    if broke.is_none() && source.completed() {
                        return Ok(());
                    }
                    broke.unwrap_or_else(|| "was closed before it completed".to_owned())
                }
                Err(e) => format!("could not be opened: {e}"),
            };
            attempt += 1;
            if attempt > RECONNECTS {
                return Err(failed(format!(
                    "the subscription on subgraph `{}` {why} ({RECONNECTS} attempts to \
                     reconnect failed)",
                    primary.subgraph
                )));
            }
            tracing::warn!(subgraph = %primary.subgraph, attempt, "subscription stream {why}; reconnecting");
            let pause = crate::traffic::backoff(
                std::time::Duration::from_millis(200),
                attempt,
                crate::traffic::random_unit(),
            );
            tokio::time::sleep(pause).await;
        }
    }
}

/// Times a subscription's stream is opened again in a row before the client is told it
/// ended (pauses of about 0.2, 0.4, 0.8, 1.6 and 3.2 s: some 6 s in all).
const RECONNECTS: u32 = 5;
