//! The request-side attacks of issue 19, one family per module: documents sent as ordinary
//! GraphQL POSTs ([`post`]), and connections that misbehave at the socket ([`raw`]: a client
//! that leaves, slowloris). Attacks that need a misbehaving subgraph (4, 5, 6, 13, 14) are
//! covered by the tests in `tests/`, not here.

pub mod documents;
pub mod post;
pub mod raw;

use std::time::Duration;

use crate::judge::Budget;

/// How an attack is sent.
pub enum Kind {
    /// GraphQL POST bodies, sent at the same time.
    Post(Vec<String>),
    /// One POST whose client goes away `after` sending it; the gateway's CPU is then measured
    /// for `watch`.
    Disconnect {
        body: String,
        after: Duration,
        watch: Duration,
    },
    /// `connections` connections that stop mid-request.
    Slow {
        stall: raw::Stall,
        connections: usize,
    },
}

pub struct Attack {
    /// Short id for `--attacks` and the table: the number and a name.
    pub id: &'static str,
    pub what: String,
    pub kind: Kind,
    pub budget: Budget,
    /// Also run with every limit off: attacks 1-3 must be cheap by their algorithms alone.
    pub limits_off: bool,
}

/// Every attack, in the order, sized as the issue measured them.
pub fn all() -> Vec<Attack> {
    use documents::*;
    let post = |doc: String| Kind::Post(vec![post_body(&doc)]);
    vec![
        Attack {
            id: "1-fragments",
            what: "exponential fragment spreads, N=30 (2^30 fields expanded)".into(),
            kind: post(fragment_spreads(30)),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "2-braces",
            what: "`{`×5000 + `}`×5000 (10 KB)".into(),
            kind: post(braces(5000)),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "2-disconnect",
            what: "`{`×200k + `}`×200k, client gone after 100 ms; gateway CPU over the next 5 s"
                .into(),
            kind: Kind::Disconnect {
                body: post_body(&braces(200_000)),
                after: Duration::from_millis(100),
                watch: Duration::from_secs(5),
            },
            budget: Budget::Abandon,
            limits_off: true,
        },
        Attack {
            id: "3-aliases",
            what: "10k aliases `{ a0: me { name } ... }`".into(),
            kind: post(aliases(10_000, "a", "me", "name")),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "3-aliases-x2",
            what: "two different 10k-alias documents at once".into(),
            kind: Kind::Post(vec![
                post_body(&aliases(10_000, "a", "me", "name")),
                post_body(&aliases(10_000, "b", "me", "name")),
            ]),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "x-nesting",
            what: "selection sets nested 5000 deep (parser recursion)".into(),
            kind: post(nesting(5000)),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "x-repeated",
            what: "`{ me { name name ... } }`, 100k times the same field (field merging)".into(),
            kind: post(repeated_fields(100_000)),
            budget: Budget::Answer,
            limits_off: true,
        },
        Attack {
            id: "8-slow-headers",
            what: "slowloris: 20 connections sending half the headers".into(),
            kind: Kind::Slow {
                stall: raw::Stall::Headers,
                connections: 20,
            },
            budget: Budget::Close,
            limits_off: false,
        },
        Attack {
            id: "8-slow-body",
            what: "slowloris: 20 connections, full headers and 8 of 100 body bytes".into(),
            kind: Kind::Slow {
                stall: raw::Stall::Body,
                connections: 20,
            },
            budget: Budget::Close,
            limits_off: false,
        },
        Attack {
            id: "10-depth20",
            what: "users/reviews/author to depth 20 over the demo data".into(),
            kind: post(users_reviews_depth(20)),
            budget: Budget::ErrorOrData,
            limits_off: false,
        },
    ]
}

/// The attacks `filters` name (all when empty): a filter is an id, the number before
/// the dash (`1` is `1-fragments`, not `10-depth20`), or the start of an id with its dash
/// (`2-b`).
pub fn select(filters: &[String]) -> Vec<Attack> {
    let named = |id: &str, f: &str| {
        id == f || id.starts_with(&format!("{f}-")) || (f.contains('-') && id.starts_with(f))
    };
    all()
        .into_iter()
        .filter(|a| filters.is_empty() || filters.iter().any(|f| named(a.id, f)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_select_by_prefix() {
        let ids: Vec<&str> = all().iter().map(|a| a.id).collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        let picked: Vec<&str> = select(&["3".into(), "10".into()])
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(picked, ["3-aliases", "3-aliases-x2", "10-depth20"]);
        assert_eq!(select(&[]).len(), ids.len());
        let one: Vec<&str> = select(&["1".into()]).iter().map(|a| a.id).collect();
        assert_eq!(one, ["1-fragments"]);
        let some: Vec<&str> = select(&["2-b".into(), "x".into()])
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(some, ["2-braces", "x-nesting", "x-repeated"]);
    }

    #[test]
    fn only_the_algorithmic_attacks_run_with_limits_off() {
        for attack in all() {
            let algorithmic = ["1-", "2-", "3-", "x-"]
                .iter()
                .any(|p| attack.id.starts_with(p));
            assert_eq!(attack.limits_off, algorithmic, "{}", attack.id);
        }
    }

    #[test]
    fn bodies_stay_under_the_default_body_limit() {
        // 2 MiB (`limits.max_body_bytes`): an attack must reach the parser, not the size check.
        for attack in all() {
            let sizes: Vec<usize> = match &attack.kind {
                Kind::Post(bodies) => bodies.iter().map(String::len).collect(),
                Kind::Disconnect { body, .. } => vec![body.len()],
                Kind::Slow { .. } => vec![],
            };
            for size in sizes {
                assert!(size < 2 * 1024 * 1024, "{}: {size}", attack.id);
            }
        }
    }
}
