//! Event sources at the gateway (docs/subscriptions.md#event-sources): a `Subscription` field
//! fed by a RabbitMQ topic exchange instead of its subgraph. Each message is read for the
//! entity's key (a representation, `{"__typename": T, key…}`), kept if its values match the
//! subscription's arguments, and then run as an event whose object only holds the key: the
//! fields the client selected are fetched from the subgraphs through `_entities`, the field's
//! own subgraph included ([`entity_fetch`]), then the rest of the plan runs.

use apollo_compiler::ast;
use futures::StreamExt;
use serde_json::{Map, Value};
use weft_federation::plan::model::{FetchNode, OperationKind, Selection};

/// A `Subscription` field fed by a broker, resolved against the supergraph (by the server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSource {
    /// The root field's name.
    pub field: String,
    /// The entity type it returns.
    pub type_name: String,
    /// Each key field and where its value is in a message.
    pub key: Vec<(String, Vec<String>)>,
    /// Each argument and where the value it must equal is in a message.
    pub arguments: Vec<(String, Vec<String>)>,
    pub broker: Broker,
}

/// Where the messages come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broker {
    /// A RabbitMQ topic exchange, the messages of a binding key.
    Rabbit {
        url: String,
        exchange: String,
        routing_key: String,
    },
    /// A NATS subject (or pattern).
    Nats { url: String, subject: String },
}

impl Broker {
    /// What tells two sources apart (for streams shared by identical subscriptions).
    pub fn describe(&self) -> String {
        match self {
            Broker::Rabbit {
                url,
                exchange,
                routing_key,
            } => format!("amqp {url} {exchange} {routing_key}"),
            Broker::Nats { url, subject } => format!("nats {url} {subject}"),
        }
    }
}

/// The value at `path` in `message`.
fn at<'m>(message: &'m Value, path: &[String]) -> Option<&'m Value> {
    path.iter().try_fold(message, |v, k| v.get(k))
}

/// Two values equal as an argument and a message field: as JSON, or a string argument (an
/// `ID`, say) and the number it spells.
fn same(argument: &Value, found: &Value) -> bool {
    argument == found
        || match (argument, found) {
            (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
                *s == n.to_string()
            }
            _ => false,
        }
}

impl EventSource {
    /// The representation a message stands for, if it has every key field and matches
    /// `filter` (argument values, by argument name).
    pub fn representation(&self, message: &[u8], filter: &Map<String, Value>) -> Option<Value> {
        let message: Value = serde_json::from_slice(message).ok()?;
        for (argument, path) in &self.arguments {
            if let Some(wanted) = filter.get(argument)
                && !at(&message, path).is_some_and(|found| same(wanted, found))
            {
                return None;
            }
        }
        let mut representation = Map::new();
        representation.insert(
            "__typename".to_owned(),
            Value::String(self.type_name.clone()),
        );
        for (field, path) in &self.key {
            let value = at(&message, path).filter(|v| !v.is_null())?;
            representation.insert(field.clone(), value.clone());
        }
        Some(Value::Object(representation))
    }

    /// Consumes the broker's messages until the connection breaks (an error) or `deliver`
    /// says no one is listening (`false`); each message matching `filter` is delivered as its
    /// representation.
    pub async fn consume(
        &self,
        filter: &Map<String, Value>,
        deliver: &mut (dyn FnMut(Value) -> bool + Send),
    ) -> Result<(), String> {
        match &self.broker {
            Broker::Rabbit {
                url,
                exchange,
                routing_key,
            } => {
                self.consume_rabbit(url, exchange, routing_key, filter, deliver)
                    .await
            }
            Broker::Nats { url, subject } => self.consume_nats(url, subject, filter, deliver).await,
        }
    }

    async fn consume_nats(
        &self,
        url: &str,
        subject: &str,
        filter: &Map<String, Value>,
        deliver: &mut (dyn FnMut(Value) -> bool + Send),
    ) -> Result<(), String> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| format!("NATS: {e}"))?;
        let mut messages = client
            .subscribe(subject.to_owned())
            .await
            .map_err(|e| format!("NATS: {e}"))?;
        while let Some(message) = messages.next().await {
            if let Some(representation) = self.representation(&message.payload, filter)
                && !deliver(representation)
            {
                return Ok(());
            }
        }
        Err("NATS: the subscription ended".to_owned())
    }

    async fn consume_rabbit(
        &self,
        url: &str,
        exchange: &str,
        routing_key: &str,
        filter: &Map<String, Value>,
        deliver: &mut (dyn FnMut(Value) -> bool + Send),
    ) -> Result<(), String> {
        let failed = |e: lapin::Error| format!("RabbitMQ: {e}");
        let (_connection, mut deliveries) =
            crate::amqp::consumer(url, exchange, routing_key, "weft-subscription")
                .await
                .map_err(failed)?;
        while let Some(delivery) = deliveries.next().await {
            let delivery = delivery.map_err(failed)?;
            if let Some(representation) = self.representation(&delivery.data, filter)
                && !deliver(representation)
            {
                return Ok(());
            }
        }
        Err("RabbitMQ: the consumer was cancelled".to_owned())
    }
}

/// What a broker-fed subscription runs per message, made from its plan's primary fetch (the
/// subscription as its subgraph would have run it): the response key of the root field, a
/// fetch whose operation only says which key fields the message gives (never sent: it tells
/// the store what to keep), and the entity fetch that gets the primary fetch's selection from
/// the same subgraph through `_entities`.
#[derive(Clone, Debug)]
pub struct MessageFetches {
    pub root_key: String,
    pub keys: FetchNode,
    pub entity: FetchNode,
}

/// [`MessageFetches`] for `source` from the primary fetch `primary`; why not, if its
/// operation cannot be read.
pub fn entity_fetch(primary: &FetchNode, source: &EventSource) -> Result<MessageFetches, String> {
    let document = ast::Document::parse(primary.operation.as_str(), "subscription.graphql")
        .map_err(|e| format!("the subscription's operation cannot be read: {e}"))?;
    let Some(operation) = document.definitions.iter().find_map(|d| match d {
        ast::Definition::OperationDefinition(op) => Some(op),
        _ => None,
    }) else {
        return Err("the subscription's operation has no operation".to_owned());
    };
    let Some(ast::Selection::Field(root)) = operation.selection_set.first() else {
        return Err("the subscription's operation selects no field".to_owned());
    };
    let root_key = root.alias.as_ref().unwrap_or(&root.name).to_string();
    let mut used = Vec::new();
    variables_in(&root.selection_set, &mut used);
    let definitions: Vec<String> = operation
        .variables
        .iter()
        .filter(|v| used.iter().any(|u| *u == v.name.as_str()))
        .map(|v| v.serialize().no_indent().to_string())
        .collect();
    let selection: Vec<String> = root
        .selection_set
        .iter()
        .map(|s| s.serialize().no_indent().to_string())
        .collect();
    let mut declared = String::from("$representations: [_Any!]!");
    for d in &definitions {
        declared.push_str(", ");
        declared.push_str(d);
    }
    let entity_operation = format!(
        "query({declared}) {{ _entities(representations: $representations) {{ ... on {} {{ {} }} }} }}",
        source.type_name,
        selection.join(" ")
    );
    let key_names: Vec<String> = source.key.iter().map(|(k, _)| k.clone()).collect();
    let mut requires = vec![Selection::Field {
        name: "__typename".to_owned(),
        alias: None,
        selections: Vec::new(),
    }];
    requires.extend(key_names.iter().map(|k| Selection::Field {
        name: k.clone(),
        alias: None,
        selections: Vec::new(),
    }));
    let entity = FetchNode {
        subgraph: primary.subgraph.clone(),
        graph: primary.graph,
        operation: entity_operation,
        operation_kind: OperationKind::Query,
        variable_usages: used.iter().map(|v| (*v).to_owned()).collect(),
        requires: vec![Selection::InlineFragment {
            type_condition: source.type_name.clone(),
            possible_types: vec![source.type_name.clone()],
            selections: requires,
        }],
        key_fields: key_names.clone(),
        input_rewrites: Vec::new(),
        output_rewrites: Vec::new(),
        context_rewrites: Vec::new(),
        id: None,
    };
    let keys = FetchNode {
        operation: format!(
            "subscription {{ {root_key}: {} {{ __typename {} }} }}",
            root.name,
            key_names.join(" ")
        ),
        variable_usages: Vec::new(),
        requires: Vec::new(),
        key_fields: Vec::new(),
        ..primary.clone()
    };
    Ok(MessageFetches {
        root_key,
        keys,
        entity,
    })
}

/// The variables used in `selections` (arguments and directives, at any depth), each once.
fn variables_in<'a>(selections: &'a [ast::Selection], out: &mut Vec<&'a str>) {
    fn value<'a>(v: &'a ast::Value, out: &mut Vec<&'a str>) {
        match v {
            ast::Value::Variable(name) if !out.contains(&name.as_str()) => {
                out.push(name.as_str());
            }
            ast::Value::List(items) => items.iter().for_each(|i| value(i, out)),
            ast::Value::Object(fields) => fields.iter().for_each(|(_, v)| value(v, out)),
            _ => {}
        }
    }
    fn directives<'a>(list: &'a ast::DirectiveList, out: &mut Vec<&'a str>) {
        for d in list.iter() {
            d.arguments.iter().for_each(|a| value(&a.value, out));
        }
    }
    for s in selections {
        match s {
            ast::Selection::Field(f) => {
                f.arguments.iter().for_each(|a| value(&a.value, out));
                directives(&f.directives, out);
                variables_in(&f.selection_set, out);
            }
            ast::Selection::InlineFragment(i) => {
                directives(&i.directives, out);
                variables_in(&i.selection_set, out);
            }
            ast::Selection::FragmentSpread(f) => directives(&f.directives, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use weft_federation::supergraph::SubgraphId;

    use super::*;

    fn source() -> EventSource {
        EventSource {
            field: "stockChanged".to_owned(),
            type_name: "Product".to_owned(),
            key: vec![(
                "upc".to_owned(),
                vec!["product".to_owned(), "upc".to_owned()],
            )],
            arguments: vec![(
                "upc".to_owned(),
                vec!["product".to_owned(), "upc".to_owned()],
            )],
            broker: Broker::Nats {
                url: String::new(),
                subject: String::new(),
            },
        }
    }

    #[test]
    fn a_message_gives_its_representation_when_it_matches_the_arguments() {
        let message = br#"{"product":{"upc":"1"},"stock":3}"#;
        let filter: Map<String, Value> = [("upc".to_owned(), json!("1"))].into_iter().collect();
        assert_eq!(
            source().representation(message, &filter),
            Some(json!({ "__typename": "Product", "upc": "1" }))
        );
        let other: Map<String, Value> = [("upc".to_owned(), json!("2"))].into_iter().collect();
        assert_eq!(source().representation(message, &other), None);
        // A key missing, or not JSON: no event.
        assert_eq!(
            source().representation(br#"{"stock":3}"#, &Map::new()),
            None
        );
        assert_eq!(source().representation(b"not json", &Map::new()), None);
        // An ID argument matches the number it spells.
        let numeric = br#"{"product":{"upc":1}}"#;
        assert!(source().representation(numeric, &filter).is_some());
    }

    #[test]
    fn the_entity_fetch_asks_for_the_primary_selection_with_only_the_variables_it_uses() {
        let primary = FetchNode {
            subgraph: "inventory".to_owned(),
            graph: SubgraphId::none(),
            operation: "subscription($u: ID!, $unit: String) { s: stockChanged(upc: $u) { \
                        __typename upc stock weight(unit: $unit) } }"
                .to_owned(),
            operation_kind: OperationKind::Subscription,
            variable_usages: vec!["u".to_owned(), "unit".to_owned()],
            requires: Vec::new(),
            key_fields: Vec::new(),
            input_rewrites: Vec::new(),
            output_rewrites: Vec::new(),
            context_rewrites: Vec::new(),
            id: None,
        };
        let fetches = entity_fetch(&primary, &source()).unwrap();
        assert_eq!(fetches.root_key, "s");
        assert_eq!(
            fetches.entity.operation,
            "query($representations: [_Any!]!, $unit: String) { _entities(representations: \
             $representations) { ... on Product { __typename upc stock weight(unit: $unit) } } }"
        );
        assert_eq!(fetches.entity.variable_usages, vec!["unit".to_owned()]);
        assert_eq!(
            fetches.keys.operation,
            "subscription { s: stockChanged { __typename upc } }"
        );
    }
}
