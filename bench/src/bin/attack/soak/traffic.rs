//! What the soak sends: ordinary queries (the README's classic query and a few smaller ones)
//! and the attack mix, chosen by a seeded generator so a run can be repeated.

use crate::attacks::{self, Kind};

/// The ordinary queries, each `(name, selection)`; a request wraps one in `query NAMEk`.
pub const ORDINARY: &[(&str, &str)] = &[
    (
        "Classic",
        "{ users { name reviews { body product { upc name reviews { author { username reviews { product { name shippingEstimate } } } } } } } topProducts(first: 2) { name } }",
    ),
    (
        "Top",
        "{ topProducts(first: 5) { upc name price inStock } }",
    ),
    (
        "UserReviews",
        "{ user(id: \"1\") { name reviews { body product { name price } } } }",
    ),
    (
        "ProductReviews",
        "{ product(upc: \"1\") { name shippingEstimate reviews { body author { name } } } }",
    ),
];

/// How many operation names each ordinary query cycles through: different texts, so in-flight
/// sharing of identical queries does not answer the whole load with one execution, but few
/// enough that the plan cache holds them all.
pub const NAMES: u64 = 100;

/// The POST body of ordinary query `index`, variant `k`.
pub fn ordinary_body(index: usize, k: u64) -> String {
    let (name, selection) = ORDINARY[index % ORDINARY.len()];
    let query = format!("query {name}{} {selection}", k % NAMES);
    serde_json::json!({ "query": query }).to_string()
}

/// An attack request of the soak: a POST body, or a POST whose client leaves early.
#[derive(Clone)]
pub enum AttackRequest {
    Post { id: &'static str, body: String },
    Leave { id: &'static str, body: String },
}

impl AttackRequest {
    pub fn id(&self) -> &'static str {
        match self {
            AttackRequest::Post { id, .. } | AttackRequest::Leave { id, .. } => id,
        }
    }
}

/// The attacks a soak mixes in: every POST attack and the client that leaves, of those
/// `filters` selects (`--attacks`). Slow connections are left out: they hold a connection for
/// the server's timeout rather than send requests, and `8-slow-*` measures them alone.
pub fn attack_mix(filters: &[String]) -> Vec<AttackRequest> {
    let mut mix = Vec::new();
    for attack in attacks::select(filters) {
        match attack.kind {
            Kind::Post(bodies) => {
                for body in bodies {
                    mix.push(AttackRequest::Post {
                        id: attack.id,
                        body,
                    });
                }
            }
            Kind::Disconnect { body, .. } => mix.push(AttackRequest::Leave {
                id: attack.id,
                body,
            }),
            Kind::Slow { .. } => {}
        }
    }
    mix
}

/// xorshift64*: a small seeded generator (no dependency, same sequence on every run).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apollo_compiler::parser::Parser;

    #[test]
    fn ordinary_bodies_are_named_valid_documents() {
        for (i, (name, _)) in ORDINARY.iter().enumerate() {
            let body: serde_json::Value = serde_json::from_str(&ordinary_body(i, 7)).unwrap();
            let query = body["query"].as_str().unwrap();
            assert!(query.starts_with(&format!("query {name}7 {{")));
            assert!(
                Parser::new().parse_ast(query, "q.graphql").is_ok(),
                "{query}"
            );
        }
        assert_eq!(ordinary_body(0, 3), ordinary_body(0, 3 + NAMES));
        assert_ne!(ordinary_body(0, 3), ordinary_body(0, 4));
    }

    #[test]
    fn the_mix_has_every_request_attack_and_no_slow_connection() {
        assert_eq!(attack_mix(&["2-braces".into()]).len(), 1);
        let ids: Vec<&str> = attack_mix(&[]).iter().map(AttackRequest::id).collect();
        assert!(ids.contains(&"1-fragments"));
        assert!(ids.contains(&"2-disconnect"));
        assert!(ids.contains(&"10-depth20"));
        assert!(!ids.iter().any(|id| id.starts_with("8-")));
    }

    #[test]
    fn the_generator_is_seeded_and_roughly_uniform() {
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        assert_eq!(a.next_u64(), b.next_u64());
        let mut r = Rng::new(42);
        let n = 100_000;
        let hits = (0..n).filter(|_| r.unit() < 0.1).count();
        assert!((9_000..11_000).contains(&hits), "{hits}");
        assert!((0..1000).all(|_| r.below(4) < 4));
    }
}
