//! An Apollo supergraph SDL loaded into one immutable, indexed model (DESIGN §3).
//!
//! Accepts what Apollo composition, Rover, Hive and Weft produce: `@link` (link v1.0) or the
//! older `@core`, join v0.1–v0.5, `@inaccessible`, `@tag`, `@authenticated`,
//! `@requiresScopes`, `@policy`, `@cost`, `@listSize`. Malformed or unsupported input is an
//! error naming line and column, never a panic.

mod api_schema;
mod build;
pub mod compare;
mod error;
pub mod executed;
pub mod extract;
pub mod links;
pub mod model;
pub(crate) mod read;

use std::collections::HashMap;

use apollo_compiler::ast::OperationType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

pub use build::JOIN_VERSIONS;
pub use error::{Diagnostic, SupergraphError};
pub use links::{Bootstrap, LinkedSpec};
pub use model::*;

/// A loaded supergraph: its subgraphs, its types and fields with join metadata, and the API
/// schema clients are validated against.
#[derive(Debug, Clone)]
pub struct Supergraph {
    schema: Valid<Schema>,
    api: Valid<Schema>,
    bootstrap: Bootstrap,
    links: Vec<LinkedSpec>,
    join_version: (u32, u32),
    subgraphs: Vec<SubgraphInfo>,
    types: Vec<TypeDef>,
    fields: Vec<FieldDef>,
    type_ids: HashMap<Name, TypeId>,
    /// The sha256 of the SDL text, in lowercase hex: [`Supergraph::schema_id`].
    schema_id: String,
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Supergraph {
    /// Parses and indexes a supergraph SDL. `source_name` labels locations in errors.
    pub fn parse(sdl: &str, source_name: &str) -> Result<Supergraph, SupergraphError> {
        let fail = |diagnostics| SupergraphError::new(source_name, diagnostics);
        // Syntax first, then "is this a supergraph at all", then full validation: each stage's
        // errors explain the ones the next stage would report.
        let parsed = Schema::parse(sdl, source_name)
            .map_err(|with_errors| fail(diagnostics(&with_errors.errors)))?;
        links::read_links(&parsed).map_err(fail)?;
        let schema = parsed
            .validate()
            .map_err(|with_errors| fail(diagnostics(&with_errors.errors)))?;
        let (bootstrap, links) = links::read_links(&schema).map_err(fail)?;
        let names =
            build::SpecNames::resolve(&schema, bootstrap, &links).map_err(|d| fail(vec![d]))?;
        let built = build::build(&schema, &names, &links).map_err(fail)?;
        let api =
            api_schema::derive(&schema, &links, names.inaccessible.as_deref()).map_err(fail)?;
        Ok(Supergraph {
            schema,
            api,
            bootstrap,
            links,
            join_version: names.join_version,
            subgraphs: built.subgraphs,
            types: built.types,
            fields: built.fields,
            type_ids: built.type_ids,
            schema_id: sha256_hex(sdl),
        })
    }

    /// Refuses a supergraph that needs features Weft does not execute (`@fromContext`
    /// arguments, a link `for: EXECUTION`/`SECURITY` to a spec Weft ignores): serving it
    /// would answer wrong data or skip a security rule. `weft serve` calls this at load and
    /// on reload; tools that only read the supergraph (plan, api-schema) do not.
    pub fn check_executable(&self, source_name: &str) -> Result<(), SupergraphError> {
        let problems = executed::unexecuted(&self.schema, &self.links);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SupergraphError::new(source_name, problems))
        }
    }

    /// The sha256 of the SDL text this supergraph was parsed from, in lowercase hex (what
    /// `sha256sum` prints, and Apollo's "schema id"): the same text, the same id, on every
    /// replica. Plans shared between gateways are keyed by it.
    pub fn schema_id(&self) -> &str {
        &self.schema_id
    }

    /// The supergraph schema as parsed (with all join machinery).
    pub fn schema(&self) -> &Valid<Schema> {
        &self.schema
    }

    /// The API schema: what clients query and introspect.
    pub fn api_schema(&self) -> &Valid<Schema> {
        &self.api
    }

    /// The API schema printed as SDL.
    pub fn api_sdl(&self) -> String {
        self.api.to_string()
    }

    pub fn bootstrap(&self) -> Bootstrap {
        self.bootstrap
    }

    /// The join spec version, e.g. `(0, 3)`.
    pub fn join_version(&self) -> (u32, u32) {
        self.join_version
    }

    /// Every spec the supergraph links.
    pub fn links(&self) -> &[LinkedSpec] {
        &self.links
    }

    pub fn subgraphs(&self) -> &[SubgraphInfo] {
        &self.subgraphs
    }

    pub fn subgraph(&self, id: SubgraphId) -> &SubgraphInfo {
        &self.subgraphs[usize::from(id.0)]
    }

    pub fn subgraph_by_name(&self, name: &str) -> Option<SubgraphId> {
        self.subgraphs
            .iter()
            .position(|s| s.name == name)
            .map(|i| SubgraphId(i as u16))
    }

    /// Every type of the graph (spec machinery excluded), with its id.
    pub fn types(&self) -> impl Iterator<Item = (TypeId, &TypeDef)> {
        self.types
            .iter()
            .enumerate()
            .map(|(i, t)| (TypeId(i as u32), t))
    }

    pub fn type_def(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0 as usize]
    }

    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.type_ids.get(name).copied()
    }

    pub fn field(&self, id: FieldId) -> &FieldDef {
        &self.fields[id.0 as usize]
    }

    /// A field of a type by name.
    pub fn field_id(&self, ty: TypeId, name: &str) -> Option<FieldId> {
        self.type_def(ty)
            .fields
            .iter()
            .copied()
            .find(|f| crate::text::same(&self.field(*f).name, name))
    }

    /// The root type for an operation kind, if the schema has one.
    pub fn root(&self, kind: OperationType) -> Option<TypeId> {
        let def = &self.schema.schema_definition;
        let name = match kind {
            OperationType::Query => def.query.as_ref(),
            OperationType::Mutation => def.mutation.as_ref(),
            OperationType::Subscription => def.subscription.as_ref(),
        }?;
        self.type_id(name)
    }

    fn all_subgraphs(&self) -> Vec<SubgraphId> {
        (0..self.subgraphs.len())
            .map(|i| SubgraphId(i as u16))
            .collect()
    }

    /// The subgraphs that define a type. A type without `@join__type` (Federation 1 value
    /// types, enums and root types in join v0.1) is in every subgraph.
    pub fn type_subgraphs(&self, ty: TypeId) -> Vec<SubgraphId> {
        let mut graphs: Vec<SubgraphId> = self
            .type_def(ty)
            .join_types
            .iter()
            .map(|j| j.graph)
            .collect();
        graphs.dedup();
        if graphs.is_empty() {
            return self.all_subgraphs();
        }
        graphs.sort();
        graphs.dedup();
        graphs
    }

    /// The keys a type declares in one subgraph (resolvable or not).
    pub fn keys(&self, ty: TypeId, graph: SubgraphId) -> impl Iterator<Item = &JoinType> {
        self.type_def(ty)
            .join_types
            .iter()
            .filter(move |j| j.graph == graph && j.key.is_some())
    }

    /// Where a field exists, per subgraph. Without `@join__field` a field is in every subgraph
    /// of its type, or, in join v0.1, in the owner's if the type has one. A `@join__field`
    /// without `graph:` means no subgraph defines the field itself (it comes from an
    /// `@interfaceObject`), so such entries are skipped.
    pub fn field_subgraphs(&self, field: FieldId) -> Vec<FieldInSubgraph> {
        let def = self.field(field);
        if def.join_fields.is_empty() {
            let parent = self.type_def(def.parent);
            let graphs = match parent.owner {
                Some(owner) => vec![owner],
                None => self.type_subgraphs(def.parent),
            };
            return graphs
                .into_iter()
                .map(|graph| FieldInSubgraph {
                    graph,
                    external: false,
                    requires: None,
                    provides: None,
                    override_from: None,
                    override_label: None,
                    used_overridden: false,
                })
                .collect();
        }
        let mut out: Vec<FieldInSubgraph> = def
            .join_fields
            .iter()
            .filter_map(|j| {
                Some(FieldInSubgraph {
                    graph: j.graph?,
                    external: j.external,
                    requires: j.requires.clone(),
                    provides: j.provides.clone(),
                    override_from: j.override_from.clone(),
                    override_label: j.override_label.clone(),
                    used_overridden: j.used_overridden,
                })
            })
            .collect();
        // Join v0.1 lists key fields under their owner only, but every subgraph that declares
        // the key resolves them (it receives them in the representation).
        if self.join_version == (0, 1) {
            for j in &self.type_def(def.parent).join_types {
                let is_key_field = j
                    .key
                    .as_deref()
                    .is_some_and(|k| top_level_fields(k).contains(&def.name.as_str()));
                if is_key_field && !out.iter().any(|f| f.graph == j.graph) {
                    out.push(FieldInSubgraph {
                        graph: j.graph,
                        external: false,
                        requires: None,
                        provides: None,
                        override_from: None,
                        override_label: None,
                        used_overridden: false,
                    });
                }
            }
        }
        out
    }
}

/// The field names at the top level of a field set: `"id org { id } sku"` → `id`, `org`, `sku`.
pub fn top_level_fields(field_set: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start: Option<usize> = None;
    for (i, c) in field_set.char_indices() {
        let ident = c.is_ascii_alphanumeric() || c == '_';
        if ident {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take()
            && depth == 0
        {
            out.push(&field_set[s..i]);
        }
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(s) = start
        && depth == 0
    {
        out.push(&field_set[s..]);
    }
    // `... on T` fragments are not fields.
    out.retain(|w| *w != "on" && *w != "...");
    out
}

/// Our diagnostics from apollo-compiler's.
fn diagnostics(list: &apollo_compiler::validation::DiagnosticList) -> Vec<Diagnostic> {
    list.iter()
        .map(|d| {
            let json = d.to_json();
            Diagnostic {
                message: json.message,
                location: json.locations.first().map(|l| (l.line, l.column)),
                hint: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
