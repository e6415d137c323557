//! The query plan: what the engine runs. Apollo's shape — `Fetch`, `Flatten`, `Sequence`,
//! `Parallel`, `Condition` — so plans read the same in every tool, serialized to JSON with
//! Apollo's field names.

use serde::{Deserialize, Serialize};

use super::schedule::Schedule;
use crate::supergraph::{SubgraphId, Supergraph};

/// A plan for one operation. `node` is `None` when nothing needs fetching (e.g. only
/// `__typename` or introspection).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryPlan {
    pub node: Option<PlanNode>,
    /// Some fetch reads `@fromContext` arguments from its objects' ancestors: the executor
    /// then keeps every object at its own place (identical objects under different ancestors
    /// may be sent different arguments, and get different answers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contextual: bool,
    /// When each fetch may start (`plan::schedule`); `None`: level by level. Derived from
    /// `node`, never written: a plan read back gets it again in
    /// [`QueryPlan::link_subgraphs`].
    #[serde(skip)]
    pub schedule: Option<Schedule>,
}

/// A plan read back names a subgraph `supergraph` does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan names the subgraph `{0}`, which the supergraph does not have")]
pub struct UnknownSubgraph(pub String);

impl QueryPlan {
    /// The plan running `node`, with its schedule.
    pub fn new(node: Option<PlanNode>, contextual: bool) -> QueryPlan {
        let schedule = schedule_of(node.as_ref(), contextual);
        QueryPlan {
            node,
            contextual,
            schedule,
        }
    }

    /// Gives every fetch of a plan read back (deserialized: ids are not written) the
    /// [`SubgraphId`] its `serviceName` has in `supergraph`, and the plan its schedule. Walks with a stack, not
    /// recursion, so no depth of plan is too deep.
    pub fn link_subgraphs(&mut self, supergraph: &Supergraph) -> Result<(), UnknownSubgraph> {
        let id = |name: &str| {
            supergraph
                .subgraph_by_name(name)
                .ok_or_else(|| UnknownSubgraph(name.to_owned()))
        };
        let mut nodes: Vec<&mut PlanNode> = self.node.iter_mut().collect();
        while let Some(node) = nodes.pop() {
            match node {
                PlanNode::Fetch(f) => f.graph = id(&f.subgraph)?,
                PlanNode::BatchFetch(b) => {
                    b.graph = id(&b.subgraph)?;
                    for entity in &mut b.entities {
                        entity.fetch.graph = id(&entity.fetch.subgraph)?;
                    }
                }
                PlanNode::Flatten(f) => nodes.push(&mut f.node),
                PlanNode::Sequence { nodes: children } | PlanNode::Parallel { nodes: children } => {
                    nodes.extend(children.iter_mut());
                }
                PlanNode::Condition {
                    if_clause,
                    else_clause,
                    ..
                } => {
                    nodes.extend(if_clause.as_deref_mut());
                    nodes.extend(else_clause.as_deref_mut());
                }
                PlanNode::Defer { primary, deferred } => {
                    nodes.extend(primary.node.as_deref_mut());
                    nodes.extend(deferred.iter_mut().filter_map(|d| d.node.as_deref_mut()));
                }
                PlanNode::Subscription { primary, rest } => {
                    primary.graph = id(&primary.subgraph)?;
                    nodes.extend(rest.as_deref_mut());
                }
            }
        }
        self.schedule = schedule_of(self.node.as_ref(), self.contextual);
        Ok(())
    }
}

/// `@fromContext` arguments are read from ancestors' fields, which the schedule does not
/// follow: such plans run level by level.
fn schedule_of(node: Option<&PlanNode>, contextual: bool) -> Option<Schedule> {
    node.filter(|_| !contextual).and_then(Schedule::of)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum PlanNode {
    Fetch(FetchNode),
    /// Entity fetches to one subgraph that run at the same moment, sent as one request.
    BatchFetch(BatchFetchNode),
    Flatten(FlattenNode),
    Sequence {
        nodes: Vec<PlanNode>,
    },
    Parallel {
        nodes: Vec<PlanNode>,
    },
    /// Runs `if_clause` when the boolean variable is true, else `else_clause`.
    Condition {
        condition: String,
        #[serde(rename = "ifClause", skip_serializing_if = "Option::is_none")]
        if_clause: Option<Box<PlanNode>>,
        #[serde(rename = "elseClause", skip_serializing_if = "Option::is_none")]
        else_clause: Option<Box<PlanNode>>,
    },
    /// Incremental delivery (`@defer`): the primary part's fetches, then each deferred
    /// fragment's, which start once the primary part's are done and never hold it back. Only
    /// ever the plan's top node.
    Defer {
        primary: PrimaryNode,
        deferred: Vec<DeferredNode>,
    },
    /// A subscription: `primary` subscribes to the root field on its subgraph; for each
    /// event it sends, `rest` (entity fetches from the event's objects) runs as for a query.
    /// Only ever the plan's top node.
    Subscription {
        primary: FetchNode,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        rest: Option<Box<PlanNode>>,
    },
}

/// The fetches of an incremental response's first part (`None`: nothing to fetch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrimaryNode {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub node: Option<Box<PlanNode>>,
}

/// A deferred fragment: its fetches, and where its data goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredNode {
    /// The fragment's `Defer::id` in the normalized operation.
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub label: Option<String>,
    /// The response path of the objects the fragment applies to (`"@"`: each list element).
    pub query_path: Vec<String>,
    /// The deferred fragment it is inside: its part comes first, and its fetches run first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parent: Option<u32>,
    /// `@defer(if: $v)`: deferred only when `$v` is true; otherwise its fetches run with its
    /// parent's (the primary's at the top) and its fields come in that part.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub condition: Option<String>,
    /// The fetches (their `id`s) of other parts whose results its fetches start from.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub depends: Vec<u32>,
    /// `None`: its fields come with the parent part's fetches (no entity to fetch them
    /// through apart), and are only delivered later.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub node: Option<Box<PlanNode>>,
}

/// Runs `node` (an entity fetch) for every object found at `path` in the response so far.
/// Path elements are response keys; `"@"` (never a GraphQL name) means every list element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlattenNode {
    pub path: Vec<String>,
    pub node: Box<PlanNode>,
}

/// One request to one subgraph carrying entity fetches at several paths (docs/decisions.md,
/// "Fetch merging"): fetches of the same plan level to the same subgraph go out together, so
/// the requests a plan makes grow with the (subgraph, level) pairs it needs, not with the
/// paths. Fetches whose `_entities` selections are identical share one `_entities` field and
/// one representation list (a representation found at two paths is sent once); the others get
/// a field of their own, aliased, each with its own list. Each member keeps the fetch it would
/// have been alone (its requires, key fields, rewrites, and operation text, which its entity
/// cache entries are keyed by).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchFetchNode {
    #[serde(rename = "serviceName")]
    pub subgraph: String,
    #[serde(skip, default = "SubgraphId::none")]
    pub graph: SubgraphId,
    /// The document sent: one `_entities` field per distinct selection.
    pub operation: String,
    /// Client variables any member uses.
    pub variable_usages: Vec<String>,
    pub entities: Vec<BatchEntity>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<u32>,
}

/// One member of a [`BatchFetchNode`]: an entity fetch at `path`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEntity {
    /// The response key of the `_entities` field its results come back under.
    pub alias: String,
    /// The variable its representations are sent in (shared with the members of the same
    /// `alias`).
    pub variable: String,
    pub path: Vec<String>,
    pub fetch: FetchNode,
}

/// The path element for "every element of the list here".
pub const LIST: &str = "@";

/// One request to one subgraph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchNode {
    /// Subgraph name, as in the supergraph's `join__Graph`.
    #[serde(rename = "serviceName")]
    pub subgraph: String,
    /// The same subgraph as the supergraph's id (its `join__Graph` index), which the executor
    /// looks subgraphs up by. Not serialized: plan output names subgraphs only. A plan read
    /// back (shared through Redis) carries [`SubgraphId::NONE`] until
    /// [`QueryPlan::link_subgraphs`] restores the ids from the names.
    #[serde(skip, default = "SubgraphId::none")]
    pub graph: SubgraphId,
    /// The GraphQL document sent to the subgraph.
    pub operation: String,
    pub operation_kind: OperationKind,
    /// Client variables the operation uses; the engine forwards their values.
    pub variable_usages: Vec<String>,
    /// Entity fetches only: how to build each representation from an object at the flatten
    /// path. The engine sends them as `$representations`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub requires: Vec<Selection>,
    /// Entity fetches: the top-level key fields. An object whose key field is null identifies
    /// no entity and is not sent.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub key_fields: Vec<String>,
    /// Applied to each representation before sending (e.g. `__typename` rewritten to an
    /// `@interfaceObject` interface's name).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub input_rewrites: Vec<Rewrite>,
    /// Applied to each result before merging.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub output_rewrites: Vec<Rewrite>,
    /// Entity fetches: the `@fromContext` arguments, each read from an ancestor of the
    /// object a representation is built from (Apollo's `contextRewrites`). Objects whose
    /// ancestors give different values are sent in separate requests.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub context_rewrites: Vec<ContextRewrite>,
    /// Stable id within the plan (for debugging and `weft plan` output).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id: Option<u32>,
}

/// Where a `@fromContext` argument's value is, relative to the object a representation is
/// built from: `..` once per object level up (list elements are not levels), then `... on T`
/// (the value is read only from an ancestor of that type), then response keys down (through
/// lists, element by element). Several rewrites may fill one variable (one per type that sets
/// the context): the first that finds its ancestor does. Serialized as Apollo's `KeyRenamer`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename = "KeyRenamer", rename_all = "camelCase")]
pub struct ContextRewrite {
    pub path: Vec<String>,
    /// The subgraph operation's variable the value is sent in.
    pub rename_key_to: String,
    /// An input-object argument: the fields the value keeps (the object found may hold
    /// more, selected by the client at the same place). Empty: the value as found.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub selections: Vec<Selection>,
    /// The argument is non-null: objects for which no rewrite finds a value (or only null)
    /// are sent in a request of their own, which the subgraph refuses without failing the
    /// others'.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub required: bool,
}

/// The path element going one object up, in a [`ContextRewrite`].
pub const PARENT: &str = "..";

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

/// A selection used to build representations: fields read from the response data, under type
/// conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Selection {
    Field {
        /// The field's name: the key the representation gets.
        #[serde(rename = "responseName")]
        name: String,
        /// The key to read in the response data when it differs from `name` (a required
        /// field with arguments is fetched under an alias).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        alias: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty", default)]
        selections: Vec<Selection>,
    },
    InlineFragment {
        /// Applies when the object's `__typename` is this type, or a possible type of it.
        #[serde(rename = "typeCondition")]
        type_condition: String,
        /// Every concrete type the condition matches (filled by the planner, so the engine
        /// needs no schema).
        #[serde(rename = "possibleTypes", default)]
        possible_types: Vec<String>,
        selections: Vec<Selection>,
    },
}

/// A change applied to a JSON object at `path` (keys; `... on T` limits to objects of type T).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Rewrite {
    ValueSetter {
        path: Vec<String>,
        #[serde(rename = "setValueTo")]
        set_value_to: serde_json::Value,
    },
    KeyRenamer {
        path: Vec<String>,
        #[serde(rename = "renameKeyTo")]
        rename_key_to: String,
    },
}
