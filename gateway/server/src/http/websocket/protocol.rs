//! The two GraphQL-over-WebSocket protocols as messages: `graphql-transport-ws` (the
//! `graphql-ws` library's, the current one) and the legacy `graphql-ws` subprotocol of
//! `subscriptions-transport-ws`, which many clients still speak. Pure: text in, messages out,
//! and the text of what the gateway sends. The connection (`super`) decides what to do.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::runtime::request::GraphQLRequest;

/// The subprotocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`.
    TransportWs,
    /// `graphql-ws`: subscriptions-transport-ws's.
    Legacy,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// The protocol to speak from the client's `Sec-WebSocket-Protocol` offers, preferring
    /// the current one when both are offered.
    pub fn choose<'a>(offered: impl Iterator<Item = &'a str>) -> Option<Protocol> {
        let mut legacy = false;
        for p in offered.flat_map(|v| v.split(',')).map(str::trim) {
            if p == "graphql-transport-ws" {
                return Some(Protocol::TransportWs);
            }
            legacy |= p == "graphql-ws";
        }
        legacy.then_some(Protocol::Legacy)
    }
}

/// What a client sends.
#[derive(Debug)]
pub enum Incoming {
    /// `connection_init`, with its payload (auth, say) when it is an object.
    Init(Map<String, Value>),
    Ping(Option<Value>),
    Pong,
    /// `subscribe` (legacy: `start`): an operation under the client's id.
    Subscribe {
        id: String,
        request: GraphQLRequest,
    },
    /// `complete` (legacy: `stop`): the client is done with `id`.
    Complete {
        id: String,
    },
    /// Legacy `connection_terminate`.
    Terminate,
}

/// A close of the connection: its code and reason, as `graphql-transport-ws` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub fn new(code: u16, reason: impl Into<String>) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }

    /// 4400: a message the protocol does not allow.
    pub fn bad_request(why: impl Into<String>) -> Close {
        Close::new(4400, why)
    }
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<Value>,
}

/// Reads one text message of `protocol`.
pub fn parse(protocol: Protocol, text: &str) -> Result<Incoming, Close> {
    let message: Message = serde_json::from_str(text)
        .map_err(|e| Close::bad_request(format!("Invalid message received: {e}")))?;
    let id = |m: &Message| {
        m.id.clone()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Close::bad_request(format!("`{}` needs an id", m.kind)))
    };
    let subscribe = matches!(
        (protocol, message.kind.as_str()),
        (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start")
    );
    if subscribe {
        let id = id(&message)?;
        let payload = message
            .payload
            .ok_or_else(|| Close::bad_request("`subscribe` needs a payload"))?;
        let request: GraphQLRequest = serde_json::from_value(payload)
            .map_err(|e| Close::bad_request(format!("Invalid subscribe payload: {e}")))?;
        return Ok(Incoming::Subscribe { id, request });
    }
    match (protocol, message.kind.as_str()) {
        (_, "connection_init") => Ok(Incoming::Init(match message.payload {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        })),
        (Protocol::TransportWs, "ping") => Ok(Incoming::Ping(message.payload)),
        (Protocol::TransportWs, "pong") => Ok(Incoming::Pong),
        (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
            Ok(Incoming::Complete { id: id(&message)? })
        }
        (Protocol::Legacy, "connection_terminate") => Ok(Incoming::Terminate),
        (_, other) => Err(Close::bad_request(format!(
            "Unexpected message of type `{other}`"
        ))),
    }
}

/// `connection_ack`.
pub fn ack() -> String {
    json!({ "type": "connection_ack" }).to_string()
}

/// `pong`, echoing the ping's payload.
pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(p) => json!({ "type": "pong", "payload": p }).to_string(),
        None => json!({ "type": "pong" }).to_string(),
    }
}

/// `ping`: the gateway asks a silent client to show it is there.
pub fn ping() -> String {
    json!({ "type": "ping" }).to_string()
}

/// The legacy protocol's keep-alive (`ka`); the current one has pings instead.
pub fn keep_alive() -> String {
    json!({ "type": "ka" }).to_string()
}

/// A result (`{"data": …, "errors": …}`, JSON text) for operation `id`: `next` (legacy:
/// `data`).
pub fn next(protocol: Protocol, id: &str, result: &[u8]) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    let mut out = String::with_capacity(result.len() + id.len() + 40);
    out.push_str("{\"id\":");
    out.push_str(&Value::String(id.to_owned()).to_string());
    out.push_str(",\"type\":\"");
    out.push_str(kind);
    out.push_str("\",\"payload\":");
    out.push_str(&String::from_utf8_lossy(result));
    out.push('}');
    out
}

/// Operation `id` was refused before it ran (`errors`: a JSON array of GraphQL errors):
/// `error` with the list (legacy: with the first error).
pub fn error(protocol: Protocol, id: &str, errors: Value) -> String {
    let payload = match protocol {
        Protocol::TransportWs => errors,
        Protocol::Legacy => errors
            .as_array()
            .and_then(|a| a.first().cloned())
            .unwrap_or(Value::Null),
    };
    json!({ "id": id, "type": "error", "payload": payload }).to_string()
}

/// Operation `id` is over.
pub fn complete(id: &str) -> String {
    json!({ "id": id, "type": "complete" }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_protocol_is_chosen_when_both_are_offered() {
        let both = ["graphql-ws, graphql-transport-ws"];
        assert_eq!(
            Protocol::choose(both.into_iter()),
            Some(Protocol::TransportWs)
        );
        assert_eq!(
            Protocol::choose(["graphql-ws"].into_iter()),
            Some(Protocol::Legacy)
        );
        assert_eq!(Protocol::choose(["chat"].into_iter()), None);
    }

    #[test]
    fn messages_of_each_protocol_read_as_the_same_intents() {
        let sub = r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { a }","variables":{"x":1}}}"#;
        match parse(Protocol::TransportWs, sub).unwrap() {
            Incoming::Subscribe { id, request } => {
                assert_eq!(id, "1");
                assert_eq!(request.query.as_deref(), Some("subscription { a }"));
                assert_eq!(request.variables, Some(json!({ "x": 1 })));
            }
            other => panic!("{other:?}"),
        }
        let start = r#"{"id":"1","type":"start","payload":{"query":"{ a }"}}"#;
        assert!(matches!(
            parse(Protocol::Legacy, start).unwrap(),
            Incoming::Subscribe { .. }
        ));
        // Each protocol's names only.
        assert_eq!(parse(Protocol::TransportWs, start).unwrap_err().code, 4400);
        assert!(matches!(
            parse(Protocol::Legacy, r#"{"id":"1","type":"stop"}"#).unwrap(),
            Incoming::Complete { .. }
        ));
        assert!(matches!(
            parse(Protocol::TransportWs, r#"{"type":"connection_init","payload":{"authorization":"x"}}"#).unwrap(),
            Incoming::Init(m) if m["authorization"] == "x"
        ));
    }

    #[test]
    fn malformed_messages_close_with_4400() {
        for text in [
            "not json",
            r#"{"type":"subscribe","payload":{}}"#,
            r#"{"id":"","type":"subscribe","payload":{}}"#,
            r#"{"id":"1","type":"subscribe"}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":5}}"#,
            r#"{"type":"what"}"#,
        ] {
            assert_eq!(
                parse(Protocol::TransportWs, text).unwrap_err().code,
                4400,
                "{text}"
            );
        }
    }

    #[test]
    fn results_are_framed_with_the_id_and_the_payload_as_given() {
        assert_eq!(
            next(Protocol::TransportWs, "a\"b", br#"{"data":{"x":1}}"#),
            r#"{"id":"a\"b","type":"next","payload":{"data":{"x":1}}}"#
        );
        assert_eq!(
            next(Protocol::Legacy, "1", b"{}"),
            r#"{"id":"1","type":"data","payload":{}}"#
        );
        let errors = json!([{ "message": "m" }]);
        assert_eq!(
            serde_json::from_str::<Value>(&error(Protocol::Legacy, "1", errors.clone())).unwrap()["payload"],
            json!({ "message": "m" })
        );
        assert_eq!(
            serde_json::from_str::<Value>(&error(Protocol::TransportWs, "1", errors.clone()))
                .unwrap()["payload"],
            errors
        );
    }
}
