//! One event of a subscription, run as a query would be: the subgraph's result for the
//! subscription's own operation is read as the answer to the plan's primary fetch (kept to
//! what it asked for, coerced, its errors made the client's), then the rest of the plan runs
//! from its objects.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};
use weft_federation::plan::model::{FetchNode, PlanNode, QueryPlan};

use super::{Executor, Fetched, Output, Ready, Request, client_variables};
use crate::error::{ErrorCode, GraphQLError};
use crate::forwarded::Forwarded;
use crate::store::Store;

impl Executor {
    /// The subscription's fetch in `plan` (`None`: not a subscription's plan).
    pub fn subscription_fetch(plan: &QueryPlan) -> Option<&FetchNode> {
        match &plan.node {
            Some(PlanNode::Subscription { primary, .. }) => Some(primary),
            _ => None,
        }
    }

    /// The request sent to subscribe: the client's variables the primary fetch uses, the
    /// headers its subgraph's rules give it, and the subgraph's URL and largest answer.
    pub fn subscription_request(
        &self,
        primary: &FetchNode,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
        forwarded: &Forwarded,
    ) -> Option<SubscriptionRequest> {
        let target = self.subgraphs.get(primary.graph.index())?;
        let request = Request {
            variables,
            headers,
            forwarded,
            clock: None,
        };
        let mut sent = crate::headers::outgoing_with(&self.all_headers, &target.headers, headers);
        if let Some((header, value)) = &forwarded.header {
            sent.retain(|(n, _)| n != header);
            sent.push((header.clone(), value.clone()));
        }
        let vars = client_variables(primary, request);
        let body = serde_json::to_vec(&crate::GraphQLRequest {
            query: &primary.operation,
            operation_name: None,
            variables: Some(&vars),
            extensions: forwarded.extensions.as_ref(),
        })
        .unwrap_or_default();
        Some(SubscriptionRequest {
            transport: target.traffic.subscription_transport(),
            url: target.traffic.url().to_owned(),
            body,
            headers: sent,
            max_event_bytes: usize::try_from(target.traffic.max_response_bytes())
                .unwrap_or(usize::MAX),
        })
    }

    /// Runs one event: `event` (the subgraph's execution result) as the primary fetch's
    /// answer, then the plan's rest.
    pub async fn execute_event(
        &self,
        plan: &QueryPlan,
        event: Bytes,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
        forwarded: &Forwarded,
    ) -> Output {
        let Some(PlanNode::Subscription { primary, .. }) = &plan.node else {
            return not_a_subscription(plan);
        };
        let request = Request {
            variables,
            headers,
            forwarded,
            clock: None,
        };
        self.run_event(plan, primary, event, None, request).await
    }

    /// Runs one message of a broker-fed subscription: `representation` (the entity's key)
    /// stands where the subscription's object goes, the entity fetch gets the fields the
    /// client selected from the field's subgraph, then the plan's rest runs.
    pub async fn execute_message(
        &self,
        plan: &QueryPlan,
        fetches: &crate::subscription::broker::MessageFetches,
        representation: Bytes,
        variables: &Map<String, Value>,
        headers: &HeaderMap,
        forwarded: &Forwarded,
    ) -> Output {
        let request = Request {
            variables,
            headers,
            forwarded,
            clock: None,
        };
        let mut body = b"{\"data\":{".to_vec();
        body.extend_from_slice(
            serde_json::to_string(&fetches.root_key)
                .unwrap_or_default()
                .as_bytes(),
        );
        body.push(b':');
        body.extend_from_slice(&representation);
        body.extend_from_slice(b"}}");
        let entity = PlanNode::Flatten(weft_federation::plan::model::FlattenNode {
            path: vec![fetches.root_key.clone()],
            node: Box::new(PlanNode::Fetch(fetches.entity.clone())),
        });
        self.run_event(
            plan,
            &fetches.keys,
            Bytes::from(body),
            Some(&entity),
            request,
        )
        .await
    }

    /// An event's run: `answer` read as the answer to the root fetch `first` (kept to what
    /// it asked for, coerced, its errors made the client's), then `then`, then the plan's
    /// rest.
    async fn run_event(
        &self,
        plan: &QueryPlan,
        first: &FetchNode,
        answer: Bytes,
        then: Option<&PlanNode>,
        request: Request<'_>,
    ) -> Output {
        let mut out = Output {
            data: Store::for_plan(plan),
            errors: Vec::new(),
            timings: Vec::new(),
        };
        let ready = Ready {
            fetch: first,
            slots: Vec::new(),
            sent: Vec::new(),
            hits: Vec::new(),
            cache_keys: Vec::new(),
            entity: false,
            variables: Map::new(),
            representations: Vec::new(),
            path: &[],
        };
        self.merge(
            &ready,
            Ok(Fetched {
                body: answer,
                ttl: None,
            }),
            &mut out,
        );
        if let Some(node) = then {
            self.run(node, request, &mut out).await;
        }
        if let Some(PlanNode::Subscription {
            rest: Some(rest), ..
        }) = &plan.node
        {
            self.run(rest, request, &mut out).await;
        }
        out
    }
}

/// The output for a plan that is not a subscription's (never the server's doing).
fn not_a_subscription(plan: &QueryPlan) -> Output {
    Output {
        data: Store::for_plan(plan),
        errors: vec![
            GraphQLError::new(ErrorCode::InternalServerError, "not a subscription's plan").into(),
        ],
        timings: Vec::new(),
    }
}

/// What subscribing sends, owned (the stream outlives the call that opens it).
pub struct SubscriptionRequest {
    pub transport: crate::subscription::Transport,
    pub url: String,
    pub body: Vec<u8>,
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub max_event_bytes: usize,
}
