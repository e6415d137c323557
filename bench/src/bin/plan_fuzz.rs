//! No-panic fuzzing of the request path up to planning: random operations generated from a
//! supergraph's API schema (valid ones, and byte-mutated ones), each parsed, validated,
//! normalized and planned. Any panic stops the run and prints the input.
//!
//! `cargo run --release -p weft-bench --bin plan-fuzz -- SUPERGRAPH [MINUTES] [SEED]`

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apollo_compiler::ExecutableDocument;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};
use weft_federation::Supergraph;
use weft_federation::graph::QueryGraph;
use weft_federation::operation::normalize;
use weft_federation::plan::plan;

#[path = "../rng.rs"]
mod rng;
use rng::Rng;

/// A field's name, type and required arguments.
type FieldShape = (
    Name,
    apollo_compiler::ast::Type,
    Vec<(Name, apollo_compiler::ast::Type)>,
);

struct Generator<'a> {
    schema: &'a Valid<Schema>,
    rng: Rng,
    variables: Vec<String>,
}

impl Generator<'_> {
    fn operation(&mut self) -> String {
        self.variables.clear();
        let root = if self.rng.chance(15) {
            self.schema.schema_definition.mutation.clone()
        } else {
            None
        }
        .or_else(|| self.schema.schema_definition.query.clone());
        let Some(root) = root else {
            return "{ __typename }".to_owned();
        };
        let keyword = if Some(&root) == self.schema.schema_definition.mutation.as_ref() {
            "mutation"
        } else {
            "query"
        };
        let body = self.selection_set(&root.name, 0);
        let vars: Vec<String> = self
            .variables
            .iter()
            .map(|v| format!("${v}: Boolean!"))
            .collect();
        if vars.is_empty() {
            format!("{keyword} {body}")
        } else {
            format!("{keyword} Fuzz({}) {body}", vars.join(", "))
        }
    }

    fn selection_set(&mut self, ty: &Name, depth: usize) -> String {
        let mut items = Vec::new();
        let count = 1 + self.rng.below(4);
        for _ in 0..count {
            if let Some(item) = self.selection(ty, depth) {
                items.push(item);
            }
        }
        if items.is_empty() {
            items.push("__typename".to_owned());
        }
        format!("{{ {} }}", items.join(" "))
    }

    fn selection(&mut self, ty: &Name, depth: usize) -> Option<String> {
        let def = self.schema.types.get(ty)?;
        let possible: Vec<Name> = match def {
            ExtendedType::Union(u) => u.members.iter().map(|m| m.name.clone()).collect(),
            ExtendedType::Interface(_) => self
                .schema
                .types
                .iter()
                .filter(|(_, t)| matches!(t, ExtendedType::Object(o) if o.implements_interfaces.contains(ty.as_str())))
                .map(|(n, _)| n.clone())
                .collect(),
            _ => Vec::new(),
        };
        if !possible.is_empty() && self.rng.chance(40) {
            let on = possible[self.rng.below(possible.len())].clone();
            return Some(format!(
                "... on {on} {}",
                self.selection_set(&on, depth + 1)
            ));
        }
        let fields: Vec<FieldShape> = match def {
            ExtendedType::Object(o) => o
                .fields
                .values()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.ty.clone(),
                        f.arguments
                            .iter()
                            .filter(|a| a.is_required())
                            .map(|a| (a.name.clone(), (*a.ty).clone()))
                            .collect(),
                    )
                })
                .collect(),
            ExtendedType::Interface(o) => o
                .fields
                .values()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.ty.clone(),
                        f.arguments
                            .iter()
                            .filter(|a| a.is_required())
                            .map(|a| (a.name.clone(), (*a.ty).clone()))
                            .collect(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        if fields.is_empty() || self.rng.chance(10) {
            return Some("__typename".to_owned());
        }
        let (name, fty, args) = fields[self.rng.below(fields.len())].clone();
        let mut out = String::new();
        if self.rng.chance(15) {
            out.push_str(&format!("a{}: ", self.rng.below(5)));
        }
        out.push_str(&name);
        if !args.is_empty() {
            let printed: Vec<String> = args
                .iter()
                .map(|(n, t)| format!("{n}: {}", self.value(t, 0)))
                .collect();
            out.push_str(&format!("({})", printed.join(", ")));
        }
        if self.rng.chance(10) {
            let v = format!("v{}", self.rng.below(3));
            if !self.variables.contains(&v) {
                self.variables.push(v.clone());
            }
            out.push_str(&format!(
                " @{}(if: ${v})",
                if self.rng.chance(50) {
                    "include"
                } else {
                    "skip"
                }
            ));
        } else if self.rng.chance(5) {
            out.push_str(" @include(if: true)");
        }
        let inner = fty.inner_named_type().clone();
        let composite = matches!(
            self.schema.types.get(&inner),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if composite {
            if depth > 5 {
                out.push_str(" { __typename }");
            } else {
                out.push(' ');
                out.push_str(&self.selection_set(&inner, depth + 1));
            }
        }
        Some(out)
    }

    fn value(&mut self, ty: &apollo_compiler::ast::Type, depth: usize) -> String {
        use apollo_compiler::ast::Type;
        match ty {
            Type::List(inner) | Type::NonNullList(inner) => {
                if depth > 3 {
                    "[]".to_owned()
                } else {
                    format!("[{}]", self.value(inner, depth + 1))
                }
            }
            Type::Named(n) | Type::NonNullNamed(n) => match self.schema.types.get(n) {
                Some(ExtendedType::Enum(e)) => e
                    .values
                    .keys()
                    .next()
                    .map(|k| k.to_string())
                    .unwrap_or_else(|| "X".to_owned()),
                Some(ExtendedType::InputObject(io)) if depth < 4 => {
                    let fields: Vec<String> = io
                        .fields
                        .values()
                        .filter(|f| f.is_required())
                        .map(|f| format!("{}: {}", f.name, self.value(&f.ty, depth + 1)))
                        .collect();
                    format!("{{{}}}", fields.join(", "))
                }
                _ => match n.as_str() {
                    "Int" => self.rng.below(100).to_string(),
                    "Float" => format!("{}.5", self.rng.below(100)),
                    "Boolean" => "true".to_owned(),
                    _ => format!("\"{}\"", self.rng.below(1000)),
                },
            },
        }
    }
}

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let edits = 1 + rng.below(4);
    const ALPHABET: &[u8] = b"{}()[]:$@!.,\"=#&| \nabcxyz019_";
    for _ in 0..edits {
        if bytes.is_empty() {
            break;
        }
        let i = rng.below(bytes.len());
        match rng.below(3) {
            0 => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, ALPHABET[rng.below(ALPHABET.len())]),
            _ => bytes[i] = ALPHABET[rng.below(ALPHABET.len())],
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What happened to one input.
enum Outcome {
    Invalid,
    Planned,
    /// A valid operation the planner refused: a planner bug on a satisfiable supergraph.
    PlanError(String),
}

/// Parse, validate, normalize, plan; errors are fine, panics are not.
fn run_one(sg: &Supergraph, graph: &QueryGraph, text: &str) -> Outcome {
    let api = sg.api_schema();
    let Ok(doc) = ExecutableDocument::parse_and_validate(api, text, "fuzz.graphql") else {
        return Outcome::Invalid;
    };
    let Ok(op) = normalize(api, &doc, None) else {
        return Outcome::Invalid;
    };
    match plan(graph, &op, &Default::default()) {
        Ok(_) => Outcome::Planned,
        Err(e) => Outcome::PlanError(e.to_string()),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: plan-fuzz SUPERGRAPH [MINUTES] [SEED]");
        std::process::exit(2);
    };
    let minutes: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0x5EED);
    let sdl = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let sg = match Supergraph::parse(&sdl, &path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let graph = QueryGraph::new(sg.clone());
    let mut generator = Generator {
        schema: sg.api_schema(),
        rng: Rng::new(seed),
        variables: Vec::new(),
    };
    let deadline = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let (mut runs, mut planned, mut plan_errors) = (0u64, 0u64, 0u64);
    std::panic::set_hook(Box::new(|_| {}));
    while Instant::now() < deadline {
        let valid = generator.operation();
        let input = if generator.rng.chance(30) {
            mutate(&mut generator.rng, &valid)
        } else {
            valid
        };
        match catch_unwind(AssertUnwindSafe(|| run_one(&sg, &graph, &input))) {
            Ok(Outcome::Planned) => planned += 1,
            Ok(Outcome::Invalid) => {}
            Ok(Outcome::PlanError(e)) => {
                plan_errors += 1;
                if plan_errors <= 5 {
                    eprintln!("plan error: {e}\n  on: {input}");
                }
            }
            Err(_) => {
                eprintln!("PANIC after {runs} runs (seed {seed}) on input:\n{input}");
                std::process::exit(1);
            }
        }
        runs += 1;
    }
    println!(
        "{path}: {runs} operations, {planned} planned, {plan_errors} plan errors, 0 panics in {minutes} min (seed {seed})"
    );
    if plan_errors > 0 {
        std::process::exit(1);
    }
}
