//! Which client request headers reach each subgraph (docs/headers.md). The configuration's
//! `headers:` key holds rules for `all` subgraphs and per subgraph name (read and checked by
//! `weft_config::headers`); a subgraph's own rules run after the `all` rules, in order, over
//! the headers the client sent. Hop-by-hop and transport headers are never propagated. W3C
//! trace context (`traceparent`, `tracestate`) is forwarded when the client sent a well-formed
//! one (docs/headers.md, "Trace context").
//!
//! Headers the gateway sets from its own state (the verified claims of `auth.forward_header`)
//! are removed from the client's request before any rule runs ([`remove_owned`]): a client
//! cannot send them itself, whatever the rules propagate.

use http::{HeaderMap, HeaderName, HeaderValue, header};
use weft_config::headers::{
    HeaderRule, HeaderRules, Name, Prefix, Propagate, Value, is_hop_by_hop,
};

/// The longest `tracestate` forwarded: W3C Trace Context lets a platform drop one past 512
/// characters, and a longer one is no trace context but a way to send bytes on.
const MAX_TRACESTATE: usize = 512;

/// Removes every header named in `owned` from the client's headers: those the gateway sets
/// for subgraphs from its own state, which a client must not be able to set in its stead.
pub fn remove_owned(client: &mut HeaderMap, owned: &[HeaderName]) {
    for name in owned {
        client.remove(name);
    }
}

/// Whether `value` is a W3C `traceparent` the gateway may pass on:
/// `version-traceid-parentid-flags` in lower-case hex, ids not all zero, version not `ff`.
/// Anything else is dropped, as the spec asks of a receiver (a new trace starts there).
pub fn valid_traceparent(value: &[u8]) -> bool {
    let hex = |part: &[u8]| {
        part.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    let parts: Vec<&[u8]> = value.split(|b| *b == b'-').collect();
    let [version, trace, parent, flags, rest @ ..] = parts.as_slice() else {
        return false;
    };
    let sizes = version.len() == 2 && trace.len() == 32 && parent.len() == 16 && flags.len() == 2;
    // Version 00 has exactly four parts; later versions may append more.
    let shape = if *version == b"00" {
        rest.is_empty()
    } else {
        *version != b"ff"
    };
    sizes
        && shape
        && [version, trace, parent, flags].into_iter().all(|p| hex(p))
        && trace.iter().any(|b| *b != b'0')
        && parent.iter().any(|b| *b != b'0')
}

/// The headers to send to `subgraph` for a client request with headers `client`: the `all`
/// rules, then the subgraph's, then the client's trace context. Hop-by-hop headers, and any
/// the client's `Connection` header names, are never in the result.
pub fn outgoing(
    rules: &HeaderRules,
    subgraph: &str,
    client: &HeaderMap,
) -> Vec<(HeaderName, HeaderValue)> {
    let own = rules.subgraphs.get(subgraph).map(Vec::as_slice);
    outgoing_with(&rules.all, own.unwrap_or_default(), client)
}

/// [`outgoing`] with the subgraph's own rules already found (`own`; the executor keeps them
/// by subgraph id, not looked up by name per request).
pub fn outgoing_with(
    all: &[HeaderRule],
    own: &[HeaderRule],
    client: &HeaderMap,
) -> Vec<(HeaderName, HeaderValue)> {
    // Names listed in `Connection` are hop-by-hop for this request (RFC 9110 §7.6.1).
    let connection: Vec<String> = client
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    let blocked =
        |name: &HeaderName| is_hop_by_hop(name) || connection.iter().any(|c| c == name.as_str());
    let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for rule in all.iter().chain(own) {
        match rule {
            HeaderRule::Propagate(Propagate::Named(Name(name))) => {
                if !blocked(name) {
                    out.retain(|(n, _)| n != name);
                    out.extend(
                        client
                            .get_all(name)
                            .iter()
                            .map(|v| (name.clone(), v.clone())),
                    );
                }
            }
            HeaderRule::Propagate(Propagate::Prefix(Prefix(prefix))) => {
                for name in client.keys() {
                    if name.as_str().starts_with(prefix.as_str()) && !blocked(name) {
                        out.retain(|(n, _)| n != name);
                        out.extend(
                            client
                                .get_all(name)
                                .iter()
                                .map(|v| (name.clone(), v.clone())),
                        );
                    }
                }
            }
            HeaderRule::Rename {
                from: Name(from),
                to: Name(to),
            } => {
                let mut values: Vec<HeaderValue> = Vec::new();
                out.retain(|(n, v)| {
                    if n == from {
                        values.push(v.clone());
                    }
                    n != from
                });
                if values.is_empty() && !blocked(from) {
                    values = client.get_all(from).iter().cloned().collect();
                }
                if !values.is_empty() {
                    out.retain(|(n, _)| n != to);
                    out.extend(values.into_iter().map(|v| (to.clone(), v)));
                }
            }
            HeaderRule::Insert {
                name: Name(name),
                value: Value(value),
            } => {
                out.retain(|(n, _)| n != name);
                out.push((name.clone(), value.clone()));
            }
            HeaderRule::Remove { name: Name(name) } => out.retain(|(n, _)| n != name),
        }
    }
    trace_context(client, &mut out);
    out
}

/// The client's trace context, in place of any the rules produced: one well-formed
/// `traceparent` (several, or a malformed one, are none), and with it its `tracestate` when
/// that is single and at most [`MAX_TRACESTATE`] long.
fn trace_context(client: &HeaderMap, out: &mut Vec<(HeaderName, HeaderValue)>) {
    let parent = HeaderName::from_static("traceparent");
    let state = HeaderName::from_static("tracestate");
    out.retain(|(n, _)| *n != parent && *n != state);
    let mut parents = client.get_all(&parent).iter();
    let (Some(value), None) = (parents.next(), parents.next()) else {
        return;
    };
    if !valid_traceparent(value.as_bytes()) {
        return;
    }
    out.push((parent, value.clone()));
    let mut states = client.get_all(&state).iter();
    if let (Some(value), None) = (states.next(), states.next())
        && value.len() <= MAX_TRACESTATE
    {
        out.push((state, value.clone()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn rules(yaml: &str) -> HeaderRules {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    fn client(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in pairs {
            map.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn sent(rules: &HeaderRules, subgraph: &str, client: &HeaderMap) -> Vec<(String, String)> {
        outgoing(rules, subgraph, client)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn nothing_is_propagated_without_rules_except_trace_context() {
        let headers = client(&[
            ("x-tenant", "acme"),
            ("authorization", "Bearer t"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            ("tracestate", "congo=t61rcWkgMzE"),
        ]);
        assert_eq!(
            sent(&HeaderRules::default(), "accounts", &headers),
            pairs(&[
                (
                    "traceparent",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
                ),
                ("tracestate", "congo=t61rcWkgMzE"),
            ])
        );
        assert!(sent(&HeaderRules::default(), "accounts", &client(&[])).is_empty());
    }

    #[test]
    fn subgraph_rules_apply_only_to_their_subgraph_and_after_all() {
        let r = rules(
            "all:\n  - propagate: { named: x-request-id }\nsubgraphs:\n  accounts:\n    - propagate: { named: X-Tenant }\n    - remove: { name: x-request-id }\n",
        );
        let headers = client(&[("x-tenant", "acme"), ("x-request-id", "r1")]);
        assert_eq!(
            sent(&r, "accounts", &headers),
            pairs(&[("x-tenant", "acme")])
        );
        assert_eq!(
            sent(&r, "products", &headers),
            pairs(&[("x-request-id", "r1")])
        );
    }

    #[test]
    fn prefix_matches_case_insensitively_and_keeps_every_value() {
        let r = rules("all:\n  - propagate: { prefix: X-Acme- }\n");
        let headers = client(&[
            ("x-acme-a", "1"),
            ("x-acme-a", "2"),
            ("x-acme-b", "3"),
            ("x-other", "4"),
        ]);
        let mut got = sent(&r, "s", &headers);
        got.sort();
        assert_eq!(
            got,
            pairs(&[("x-acme-a", "1"), ("x-acme-a", "2"), ("x-acme-b", "3")])
        );
    }

    #[test]
    fn rename_takes_the_outgoing_header_or_else_the_clients() {
        let headers = client(&[("x-user", "u1"), ("x-plan", "gold")]);
        let r = rules(
            "all:\n  - propagate: { prefix: x- }\n  - rename: { from: x-user, to: x-account-user }\n",
        );
        let mut got = sent(&r, "s", &headers);
        got.sort();
        assert_eq!(got, pairs(&[("x-account-user", "u1"), ("x-plan", "gold")]));
        let r = rules("all:\n  - rename: { from: x-user, to: x-account-user }\n");
        assert_eq!(sent(&r, "s", &headers), pairs(&[("x-account-user", "u1")]));
        let r = rules("all:\n  - rename: { from: x-missing, to: x-account-user }\n");
        assert!(sent(&r, "s", &headers).is_empty());
    }

    #[test]
    fn insert_replaces_and_remove_undoes() {
        let r = rules(
            "all:\n  - propagate: { named: x-source }\n  - insert: { name: x-source, value: weft }\n  - insert: { name: x-gone, value: v }\nsubgraphs:\n  s:\n    - remove: { name: x-gone }\n",
        );
        let headers = client(&[("x-source", "client")]);
        assert_eq!(sent(&r, "s", &headers), pairs(&[("x-source", "weft")]));
        assert_eq!(
            sent(&r, "t", &headers),
            pairs(&[("x-source", "weft"), ("x-gone", "v")])
        );
    }

    #[test]
    fn hop_by_hop_headers_are_never_propagated() {
        // Prefixes that cover hop-by-hop names still skip them.
        let r = rules(
            "all:\n  - propagate: { prefix: t }\n  - propagate: { prefix: proxy }\n  - propagate: { prefix: c }\n  - propagate: { prefix: x- }\n",
        );
        let headers = client(&[
            ("te", "trailers"),
            ("transfer-encoding", "chunked"),
            ("proxy-authorization", "Basic x"),
            ("content-type", "application/json"),
            ("connection", "keep-alive, x-private"),
            ("x-private", "secret"),
            ("x-ok", "1"),
            ("custom", "yes"),
        ]);
        let mut got = sent(&r, "s", &headers);
        got.sort();
        assert_eq!(got, pairs(&[("custom", "yes"), ("x-ok", "1")]));
    }

    #[test]
    fn only_well_formed_trace_context_is_forwarded() {
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        for (value, ok) in [
            (good, true),
            (
                "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
                true,
            ),
            (
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
                false,
            ),
            (
                "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                false,
            ),
            (
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                false,
            ),
            (
                "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                false,
            ),
            (
                "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
                false,
            ),
            (
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01",
                false,
            ),
            ("admin", false),
            ("", false),
        ] {
            assert_eq!(valid_traceparent(value.as_bytes()), ok, "{value}");
        }
        let none = HeaderRules::default();
        let bad = client(&[("traceparent", "not-a-trace"), ("tracestate", "a=b")]);
        assert!(sent(&none, "s", &bad).is_empty());
        let twice = client(&[("traceparent", good), ("traceparent", good)]);
        assert!(sent(&none, "s", &twice).is_empty());
        let long = "a=".to_owned() + &"b".repeat(MAX_TRACESTATE);
        let big = client(&[("traceparent", good), ("tracestate", &long)]);
        assert_eq!(sent(&none, "s", &big), pairs(&[("traceparent", good)]));
        // A rule cannot put a forged trace context in either.
        let r = rules("all:\n  - rename: { from: x-trace, to: traceparent }\n");
        let renamed = client(&[("x-trace", "forged")]);
        assert!(sent(&r, "s", &renamed).is_empty());
    }

    #[test]
    fn owned_headers_are_gone_before_any_rule_runs() {
        let mut headers = client(&[
            ("x-weft-claims", r#"{"sub":"999","scope":"admin"}"#),
            ("x-weft-claims", "again"),
            ("x-tenant", "acme"),
        ]);
        remove_owned(&mut headers, &[HeaderName::from_static("x-weft-claims")]);
        let r = rules(
            "all:\n  - propagate: { prefix: x- }\n  - rename: { from: x-weft-claims, to: x-claims }\n",
        );
        assert_eq!(sent(&r, "s", &headers), pairs(&[("x-tenant", "acme")]));
    }

    #[test]
    fn inserted_values_are_sent() {
        // weft-config keeps them out of `Debug`; here they go out as configured.
        let r = rules("all:\n  - insert: { name: authorization, value: Bearer s3cret }\n");
        assert_eq!(
            sent(&r, "s", &HeaderMap::new()),
            pairs(&[("authorization", "Bearer s3cret")])
        );
    }
}
