//! `@context`/`@fromContext` (Federation 2.8): an argument whose value the gateway reads from
//! an ancestor in the response. The field is always fetched through an entity fetch of its
//! parent (the value must travel as a variable); the context's selection is planned at the
//! nearest ancestor whose type sets the context, as if the client had selected it there, and
//! the fetch waits for it. Where to read the value, relative to each object, goes into the
//! fetch as a [`ContextRewrite`]: the executor reads it per object.

use apollo_compiler::ast::Value;
use apollo_compiler::{Name, Node};

use super::{Builder, LinkKind, PlanError, fail};
use crate::graph::selection::{FieldSetItem, parse_field_set};
use crate::operation as op;
use crate::plan::model::{ContextRewrite, PARENT, Selection};
use crate::plan::steps::ContextArg;
use crate::supergraph::{ContextArgument, FieldId, SubgraphId, TypeId, TypeKind};

/// An argument planned into a fetch: its name and the variable passed to it.
pub(super) type PassedArgument = (String, Node<Value>);

impl Builder<'_> {
    /// The `@fromContext` arguments of `fid` in `graph` (empty for most fields).
    pub(super) fn context_arguments(&self, fid: FieldId, graph: SubgraphId) -> &[ContextArgument] {
        self.sg
            .field(fid)
            .join_fields
            .iter()
            .find(|j| j.graph == Some(graph))
            .map_or(&[], |j| j.context_arguments.as_slice())
    }

    /// Plans the `@fromContext` arguments of `fid` in `graph` for the entity fetch `target`
    /// (at the field's parent): each context's selection at its setter, the fetch waiting for
    /// it, and a variable of `target` carrying it. Returns the arguments to add to the field.
    pub(super) fn plan_context(
        &mut self,
        target: usize,
        fid: FieldId,
        graph: SubgraphId,
    ) -> Result<Vec<PassedArgument>, PlanError> {
        let arguments = self.context_arguments(fid, graph).to_vec();
        let mut passed = Vec::with_capacity(arguments.len());
        for argument in &arguments {
            let setters = self.context_setters(&argument.context);
            if setters.is_empty() {
                if argument.ty.ends_with('!') {
                    return fail(format!(
                        "`{}.{}` takes `{}` from the context `{}`, which no ancestor in the \
                         operation sets",
                        self.sg.type_def(self.sg.field(fid).parent).name,
                        self.sg.field(fid).name,
                        argument.name,
                        argument.context
                    ));
                }
                // A nullable argument with no context set: not passed (the subgraph's
                // default), as for a client that leaves an optional argument out.
                continue;
            }
            let items = parse_field_set(selection_text(&argument.selection));
            let mut rewrites = Vec::new();
            for (link, levels, types) in setters {
                let at = self.chain[link].clone();
                let set = self.context_selection(at.parent.ty, &types, &items);
                // Planned as if selected at the setter: the way down to it is the client's
                // path there, not the reader's.
                let below = self.chain.split_off(link);
                let planned =
                    self.tracked(|b| b.plan_set(at.step, &at.at, at.parent, &set, &at.path));
                self.chain.extend(below);
                let mut deps = planned?;
                deps.insert(at.step);
                if deps
                    .iter()
                    .any(|&d| d == target || self.depends_on(d, target))
                {
                    return fail(format!(
                        "the context `{}` of `{}` can only be fetched after the field itself",
                        argument.context,
                        self.sg.field(fid).name
                    ));
                }
                self.wait_for(target, deps);
                rewrites.extend(self.context_rewrites(
                    at.parent.ty,
                    &types,
                    levels,
                    argument,
                    &items,
                ));
            }
            let variable = self.context_variable(target, graph, argument, rewrites);
            let name = Name::new(&variable).map_err(|_| PlanError {
                message: format!("`{variable}` is not a variable name"),
                over_budget: false,
            })?;
            passed.push((argument.name.clone(), Node::new(Value::Variable(name))));
        }
        Ok(passed)
    }

    /// The ancestor objects (by the client's fields planned so far) whose types set
    /// `context`, nearest first: for each, the chain link of the field holding the way down
    /// from it, how many object levels up it is from the field's parent, and its object types
    /// that set the context. Outer ones only while a nearer one leaves some of its types out:
    /// an object whose type does not set the context takes it from further up.
    fn context_setters(&self, context: &str) -> Vec<(usize, usize, Vec<TypeId>)> {
        let mut out = Vec::new();
        let mut levels = 0;
        for (i, link) in self.chain.iter().enumerate().rev() {
            if let LinkKind::Field(_) = link.kind {
                levels += 1;
                let ty = link.parent.ty;
                let types = self.setter_types(ty, context);
                if types.is_empty() {
                    continue;
                }
                let all = types.len() == self.possible_objects(ty).len();
                out.push((i, levels, types));
                if all {
                    break;
                }
            }
        }
        out
    }

    /// Whether objects of `ty` set `context`: the type, an interface it implements or a
    /// union it is in carries `@context` with that name.
    fn sets_context(&self, ty: TypeId, context: &str) -> bool {
        let has = |t: TypeId| self.sg.type_def(t).contexts.iter().any(|c| c == context);
        has(ty)
            || self.sg.type_def(ty).interfaces.iter().any(|i| has(*i))
            || self
                .context_unions()
                .iter()
                .any(|u| self.sg.type_def(*u).members.contains(&ty) && has(*u))
    }

    /// The unions that set a context (found once per plan: most supergraphs have none).
    fn context_unions(&self) -> &[TypeId] {
        self.context_unions.get_or_init(|| {
            self.sg
                .types()
                .filter(|(_, t)| t.kind == TypeKind::Union && !t.contexts.is_empty())
                .map(|(id, _)| id)
                .collect()
        })
    }

    /// The object types of a setter (a field's static type, maybe abstract) that set
    /// `context`.
    fn setter_types(&self, setter: TypeId, context: &str) -> Vec<TypeId> {
        if self.sg.type_def(setter).kind == TypeKind::Object {
            return if self.sets_context(setter, context) {
                vec![setter]
            } else {
                Vec::new()
            };
        }
        let all = self.sets_context(setter, context);
        self.possible_objects(setter)
            .into_iter()
            .filter(|t| all || self.sets_context(*t, context))
            .collect()
    }

    /// The context's selection as the client would select it at the setter: its fields for
    /// an object type; for an abstract one, a fragment per type that sets the context (the
    /// selection may name fields only those types have).
    fn context_selection(
        &self,
        setter: TypeId,
        types: &[TypeId],
        items: &[FieldSetItem],
    ) -> op::SelectionSet {
        let name = self.sg.type_def(setter).name.to_string();
        let selections = if self.sg.type_def(setter).kind == TypeKind::Object {
            fields_for(items, Some(&name))
                .into_iter()
                .filter_map(|f| self.requirement_item(f, setter))
                .collect()
        } else {
            types
                .iter()
                .filter_map(|t| {
                    let type_name = self.sg.type_def(*t).name.to_string();
                    let children = fields_for(items, Some(&type_name))
                        .into_iter()
                        .cloned()
                        .collect();
                    let fragment = FieldSetItem::Fragment {
                        type_condition: type_name,
                        children,
                    };
                    self.requirement_item(&fragment, setter)
                })
                .collect()
        };
        let mut set = op::SelectionSet {
            parent_type: name,
            items: selections,
        };
        self.alias_context_fields(&mut set);
        set
    }

    /// Gives the top fields of a context selection a response key of their own
    /// ([`Self::context_key`]): under the client's own key, a client alias (`id: friendId`)
    /// could put another value where the context is read.
    fn alias_context_fields(&self, set: &mut op::SelectionSet) {
        for item in &mut set.items {
            match item {
                op::Selection::Field(f) => f.response_key = self.context_key(&f.name),
                op::Selection::InlineFragment(i) => self.alias_context_fields(&mut i.selection_set),
            }
        }
    }

    /// The response key a context selection's top field `name` is fetched under at its
    /// setter: `<name>_context`, with `_` added until no field of the operation has it.
    fn context_key(&self, name: &str) -> String {
        self.response_keys().free(format!("{name}_context"))
    }

    /// Where the value is, from each object of the fetch: one rewrite per object type of the
    /// setter that sets the context (the variable is filled by whichever finds its ancestor).
    fn context_rewrites(
        &self,
        setter: TypeId,
        types: &[TypeId],
        levels: usize,
        argument: &ContextArgument,
        items: &[FieldSetItem],
    ) -> Vec<ContextRewrite> {
        let input_fields = self.input_fields(&argument.ty);
        let is_root = [
            apollo_compiler::ast::OperationType::Query,
            apollo_compiler::ast::OperationType::Mutation,
        ]
        .into_iter()
        .any(|k| self.sg.root(k) == Some(setter));
        types
            .iter()
            .map(|ty| {
                let name = self.sg.type_def(*ty).name.to_string();
                let mut path = vec![PARENT.to_owned(); levels];
                // The root object carries no `__typename` unless asked: nothing to test.
                if !is_root {
                    path.push(format!("... on {name}"));
                }
                let (mut keys, mut selections) =
                    value_path(self, items, &name, input_fields.as_deref());
                // The top field is fetched under its context key (`alias_context_fields`).
                match keys.first_mut() {
                    Some(first) => *first = self.context_key(&top_name(items, &name)),
                    None => {
                        for s in &mut selections {
                            if let Selection::Field { name, alias, .. } = s {
                                *alias = Some(self.context_key(name));
                            }
                        }
                    }
                }
                path.extend(keys);
                ContextRewrite {
                    path,
                    rename_key_to: String::new(),
                    selections,
                    required: argument.ty.ends_with('!'),
                }
            })
            .collect()
    }

    /// The field names of the input object an argument type names (`None`: not an input
    /// object).
    fn input_fields(&self, ty: &str) -> Option<Vec<String>> {
        let named = ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
        let def = self.sg.type_def(self.sg.type_id(named)?);
        (def.kind == TypeKind::InputObject).then(|| {
            def.fields
                .iter()
                .map(|f| self.sg.field(*f).name.to_string())
                .collect()
        })
    }

    /// The variable of `step` carrying `argument`'s context value: one already there for
    /// the same context read the same way (the field planned again under another fragment,
    /// or another field of the step reading it: the same ancestors, so the same value; the
    /// rewrites are merged, nearest setters first), else a new one
    /// (`contextualArgument_<subgraph>_<n>`, Apollo's names, never one of the client's).
    fn context_variable(
        &mut self,
        step: usize,
        graph: SubgraphId,
        argument: &ContextArgument,
        mut rewrites: Vec<ContextRewrite>,
    ) -> String {
        let ups = |r: &ContextRewrite| r.path.iter().take_while(|e| *e == PARENT).count();
        let existing = self.steps[step].context.iter_mut().find(|c| {
            c.context == argument.context
                && c.selection == argument.selection
                && c.ty == argument.ty
        });
        if let Some(existing) = existing {
            for mut r in rewrites {
                if !existing.rewrites.iter().any(|e| e.path == r.path) {
                    r.rename_key_to.clone_from(&existing.variable);
                    existing.rewrites.push(r);
                }
            }
            // Nearest first: the executor takes the first rewrite that finds its ancestor.
            existing.rewrites.sort_by_key(|r| ups(r));
            return existing.variable.clone();
        }
        let mut variable = format!(
            "contextualArgument_{}_{}",
            graph.index() + 1,
            self.steps[step].context.len()
        );
        while self.op.variables.iter().any(|v| v.name == variable) {
            variable.push('_');
        }
        for r in &mut rewrites {
            r.rename_key_to.clone_from(&variable);
        }
        rewrites.sort_by_key(|r| ups(r));
        self.steps[step].context.push(ContextArg {
            variable: variable.clone(),
            context: argument.context.clone(),
            selection: argument.selection.clone(),
            ty: argument.ty.clone(),
            rewrites,
        });
        variable
    }
}

/// `@fromContext(field:)`'s selection without the braces around it (` { prop }` →
/// `prop`; a selection of fragments has none).
fn selection_text(selection: &str) -> &str {
    let text = selection.trim();
    match text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        Some(inner) => inner,
        None => text,
    }
}

/// The response keys from the setter to the value, for a setter object of type `ty`: down
/// through fields selected alone, to a leaf; for an input-object argument, to the object
/// whose selected fields are the input's (returned, to keep only them).
fn value_path(
    b: &Builder<'_>,
    items: &[FieldSetItem],
    ty: &str,
    input_fields: Option<&[String]>,
) -> (Vec<String>, Vec<Selection>) {
    let mut keys = Vec::new();
    let mut level = fields_for(items, Some(ty));
    loop {
        if let Some(input) = input_fields
            && !level.is_empty()
            && level.iter().all(|f| input.contains(&field_name(f)))
        {
            return (keys, level.iter().map(|f| to_selection(b, f)).collect());
        }
        match level.as_slice() {
            [
                FieldSetItem::Field {
                    name,
                    arguments,
                    children,
                },
            ] => {
                keys.push(
                    b.requirement_key(name, arguments)
                        .unwrap_or_else(|| name.clone()),
                );
                if children.is_empty() {
                    return (keys, Vec::new());
                }
                level = fields_for(children, None);
            }
            _ => return (keys, level.iter().map(|f| to_selection(b, f)).collect()),
        }
    }
}

/// The fields of a selection level: its own, and those of fragments on `ty` (every
/// fragment's below the top, where the type is the field's).
fn fields_for<'a>(items: &'a [FieldSetItem], ty: Option<&str>) -> Vec<&'a FieldSetItem> {
    let mut out = Vec::new();
    for item in items {
        match item {
            FieldSetItem::Field { .. } => out.push(item),
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => {
                if ty.is_none_or(|t| t == type_condition) {
                    out.extend(fields_for(children, None));
                }
            }
        }
    }
    out
}

/// The name of the one top field of a context selection on `ty`.
fn top_name(items: &[FieldSetItem], ty: &str) -> String {
    fields_for(items, Some(ty))
        .first()
        .map(|f| field_name(f))
        .unwrap_or_default()
}

fn field_name(item: &FieldSetItem) -> String {
    match item {
        FieldSetItem::Field { name, .. } => name.clone(),
        FieldSetItem::Fragment { .. } => String::new(),
    }
}

/// A selected field as a plan selection (what the executor keeps of an object value).
fn to_selection(b: &Builder<'_>, item: &FieldSetItem) -> Selection {
    match item {
        FieldSetItem::Field {
            name,
            arguments,
            children,
        } => Selection::Field {
            name: name.clone(),
            alias: b.requirement_key(name, arguments),
            selections: fields_for(children, None)
                .into_iter()
                .map(|c| to_selection(b, c))
                .collect(),
        },
        FieldSetItem::Fragment { type_condition, .. } => Selection::InlineFragment {
            type_condition: type_condition.clone(),
            possible_types: Vec::new(),
            selections: Vec::new(),
        },
    }
}
