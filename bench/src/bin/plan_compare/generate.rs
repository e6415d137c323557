//! Generated operations: random, seeded selections over an API schema. From the Query root,
//! object fields are followed down to [`MAX_DEPTH`]; abstract types get inline fragments and
//! named fragments on their possible types; a few fields carry `@skip`/`@include` on a
//! variable (so both planners' handling of conditions is compared); required arguments get
//! values of their type. Operations that turn out invalid (a field merge conflict, a value the
//! schema refuses) are dropped by the caller, which validates each against the API schema.

use std::collections::{BTreeSet, HashMap};

use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

/// Selection sets nest at most this deep below the root field.
pub const MAX_DEPTH: usize = 5;

pub use crate::rng::Rng;

/// A stable seed per supergraph (FNV-1a of its name mixed with the run's seed), so adding a
/// suite does not change the operations generated for the others.
pub fn seed_for(run_seed: u64, name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^ run_seed
}

/// String and ID values: a few the audit's and the reference's data use, so some operations
/// look like real ones (planning does not depend on them).
const IDS: &[&str] = &["1", "2", "p1", "u1", "b1", "a1"];

/// A field's name, its type, and its required arguments with their types.
type FieldShape = (Name, Type, Vec<(Name, Type)>);

pub struct Generator<'a> {
    schema: &'a Valid<Schema>,
    rng: Rng,
    /// The object types of each interface.
    implementers: HashMap<Name, Vec<Name>>,
    variables: BTreeSet<String>,
    fragments: Vec<String>,
    /// Items per selection set: 1 to this many near the root, one fewer deeper down.
    width: usize,
}

impl<'a> Generator<'a> {
    /// A generator of operations with up to `width` items per selection set (3 gives
    /// operations of a few fetches; 6 and more, wide fan-outs).
    pub fn new(schema: &'a Valid<Schema>, seed: u64, width: usize) -> Generator<'a> {
        let mut implementers: HashMap<Name, Vec<Name>> = HashMap::new();
        for (name, ty) in &schema.types {
            if let ExtendedType::Object(o) = ty {
                for interface in &o.implements_interfaces {
                    implementers
                        .entry(interface.name.clone())
                        .or_default()
                        .push(name.clone());
                }
            }
        }
        for objects in implementers.values_mut() {
            objects.sort();
        }
        Generator {
            schema,
            rng: Rng::new(seed),
            implementers,
            variables: BTreeSet::new(),
            fragments: Vec::new(),
            width: width.max(1),
        }
    }

    /// One query, or `None` when the schema has no Query root.
    pub fn operation(&mut self) -> Option<String> {
        self.variables.clear();
        self.fragments.clear();
        let root = self.schema.schema_definition.query.clone()?;
        let body = self.selection_set(&root.name, 0);
        let mut text = String::from("query");
        if !self.variables.is_empty() {
            let defs: Vec<String> = self
                .variables
                .iter()
                .map(|v| format!("${v}: Boolean!"))
                .collect();
            text.push_str(&format!(" Generated({})", defs.join(", ")));
        }
        text.push(' ');
        text.push_str(&body);
        for fragment in &self.fragments {
            text.push('\n');
            text.push_str(fragment);
        }
        Some(text)
    }

    /// The possible object types of an abstract type (empty for others).
    fn possible_types(&self, def: &ExtendedType, name: &Name) -> Vec<Name> {
        match def {
            ExtendedType::Union(u) => {
                let mut members: Vec<Name> = u.members.iter().map(|m| m.name.clone()).collect();
                members.sort();
                members
            }
            ExtendedType::Interface(_) => self.implementers.get(name).cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn selection_set(&mut self, ty: &Name, depth: usize) -> String {
        let Some(def) = self.schema.types.get(ty) else {
            return "{ __typename }".to_owned();
        };
        let possible = self.possible_types(def, ty);
        let defined = match def {
            ExtendedType::Object(o) => Some(&o.fields),
            ExtendedType::Interface(i) => Some(&i.fields),
            _ => None,
        };
        let fields: Vec<FieldShape> = defined
            .into_iter()
            .flat_map(|fields| fields.values())
            .map(|f| {
                (
                    f.name.clone(),
                    f.ty.clone(),
                    required_arguments(&f.arguments),
                )
            })
            .collect();
        let wanted = if depth < 2 {
            1 + self.rng.below(self.width)
        } else {
            1 + self.rng.below((self.width - 1).max(1))
        };
        let mut items: Vec<String> = Vec::new();
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        for _ in 0..wanted {
            if !possible.is_empty() && (fields.is_empty() || self.rng.chance(40)) {
                if let Some(on) = self.rng.pick(&possible).cloned() {
                    items.push(self.fragment(&on, depth));
                }
                continue;
            }
            let i = self.rng.below(fields.len());
            if fields.is_empty() || !taken.insert(i) {
                continue;
            }
            let (name, fty, args) = &fields[i];
            if let Some(item) = self.field(name, fty, args, depth) {
                items.push(item);
            }
        }
        if items.is_empty() || self.rng.chance(8) {
            items.push("__typename".to_owned());
        }
        format!("{{ {} }}", items.join(" "))
    }

    /// An inline fragment, or a spread of a named fragment defined after the operation.
    fn fragment(&mut self, on: &Name, depth: usize) -> String {
        let body = self.selection_set(on, depth + 1);
        if self.rng.chance(30) {
            let name = format!("F{}", self.fragments.len());
            self.fragments
                .push(format!("fragment {name} on {on} {body}"));
            format!("...{name}")
        } else {
            format!("... on {on} {body}")
        }
    }

    fn field(
        &mut self,
        name: &Name,
        ty: &Type,
        args: &[(Name, Type)],
        depth: usize,
    ) -> Option<String> {
        let inner = ty.inner_named_type();
        let composite = matches!(
            self.schema.types.get(inner),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if composite && depth >= MAX_DEPTH {
            return None;
        }
        let mut out = name.to_string();
        if !args.is_empty() {
            let values: Vec<String> = args
                .iter()
                .map(|(n, t)| format!("{n}: {}", self.value(t, 0)))
                .collect();
            out.push_str(&format!("({})", values.join(", ")));
        }
        if self.rng.chance(6) {
            let variable = format!("v{}", self.rng.below(2));
            let directive = if self.rng.chance(50) {
                "include"
            } else {
                "skip"
            };
            out.push_str(&format!(" @{directive}(if: ${variable})"));
            self.variables.insert(variable);
        }
        if composite {
            out.push(' ');
            out.push_str(&self.selection_set(inner, depth + 1));
        }
        Some(out)
    }

    fn value(&mut self, ty: &Type, depth: usize) -> String {
        match ty {
            Type::List(inner) | Type::NonNullList(inner) => {
                format!("[{}]", self.value(inner, depth + 1))
            }
            Type::Named(n) | Type::NonNullNamed(n) => match self.schema.types.get(n) {
                Some(ExtendedType::Enum(e)) => {
                    let values: Vec<&Name> = e.values.keys().collect();
                    self.rng
                        .pick(&values)
                        .map(|v| v.to_string())
                        .unwrap_or_default()
                }
                Some(ExtendedType::InputObject(io)) => {
                    let fields: Vec<(Name, Type)> = io
                        .fields
                        .values()
                        .filter(|f| f.is_required() || (depth < 2 && self.rng.chance(20)))
                        .map(|f| (f.name.clone(), (*f.ty).clone()))
                        .collect();
                    let printed: Vec<String> = fields
                        .iter()
                        .map(|(n, t)| format!("{n}: {}", self.value(t, depth + 1)))
                        .collect();
                    format!("{{ {} }}", printed.join(", "))
                }
                _ => match n.as_str() {
                    "Int" => self.rng.below(10).to_string(),
                    "Float" => format!("{}.5", self.rng.below(10)),
                    "Boolean" => self.rng.chance(50).to_string(),
                    _ => format!("\"{}\"", self.rng.pick(IDS).copied().unwrap_or("1")),
                },
            },
        }
    }
}

fn required_arguments(
    arguments: &[apollo_compiler::Node<apollo_compiler::ast::InputValueDefinition>],
) -> Vec<(Name, Type)> {
    arguments
        .iter()
        .filter(|a| a.is_required())
        .map(|a| (a.name.clone(), (*a.ty).clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use apollo_compiler::ExecutableDocument;
    use weft_federation::Supergraph;

    use super::*;

    /// The planner's bookstore fixture: interfaces, unions, arguments of enum and input types.
    fn bookstore() -> Supergraph {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../gateway/federation/tests/fixtures/planner/supergraph.graphql");
        let sdl = std::fs::read_to_string(&path).expect("planner fixture");
        Supergraph::parse(&sdl, "planner").expect("parses")
    }

    #[test]
    fn the_same_seed_gives_the_same_operations() {
        let sg = bookstore();
        let run = |seed| {
            let mut g = Generator::new(sg.api_schema(), seed, 3);
            (0..20).filter_map(|_| g.operation()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn most_generated_operations_are_valid_and_some_use_conditions_and_fragments() {
        let sg = bookstore();
        let mut g = Generator::new(sg.api_schema(), seed_for(1, "planner"), 3);
        let ops: Vec<String> = (0..200).filter_map(|_| g.operation()).collect();
        let valid = ops
            .iter()
            .filter(|op| {
                ExecutableDocument::parse_and_validate(sg.api_schema(), op.as_str(), "g.graphql")
                    .is_ok()
            })
            .count();
        assert!(valid >= 180, "{valid} of {} valid", ops.len());
        assert!(
            ops.iter()
                .any(|op| op.contains("@skip(if: $v") || op.contains("@include(if: $v"))
        );
        assert!(
            ops.iter()
                .any(|op| op.contains("... on ") || op.contains("fragment F"))
        );
    }
}
