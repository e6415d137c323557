//! `@requires` (and keys gathered like them): planning a field set where the objects come
//! from, as if the client had selected it, and telling which fetches it landed in (the
//! fetch that reads it must wait for them).

use std::collections::BTreeSet;

use super::{Builder, PlanError};
use crate::graph::Node;
use crate::graph::selection::FieldSetItem;
use crate::operation as op;
use crate::plan::steps::{SelKey, SubSel, insert};
use crate::supergraph::TypeId;

impl Builder<'_> {
    /// Plans `items` (requirements, or a key gathered from elsewhere) at `node` as if the
    /// client had selected them; returns every fetch they landed in, which the fetch reading
    /// them must wait for.
    pub(super) fn plan_first(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        items: &[FieldSetItem],
        path: &[String],
    ) -> Result<BTreeSet<usize>, PlanError> {
        self.tracked(|b| {
            items
                .iter()
                .try_for_each(|item| b.plan_requirement(step, at, node, item, path))
        })
    }

    /// Runs `plan` (which plans what a fetch will read); returns every fetch it landed in.
    pub(super) fn tracked(
        &mut self,
        plan: impl FnOnce(&mut Self) -> Result<(), PlanError>,
    ) -> Result<BTreeSet<usize>, PlanError> {
        let outer = std::mem::take(&mut self.touched);
        let before = self.steps.len();
        let result = plan(self);
        let mut deps: BTreeSet<usize> = (before..self.steps.len()).collect();
        deps.extend(self.touched.iter().copied());
        let inner = std::mem::replace(&mut self.touched, outer);
        self.touched.extend(inner);
        result.map(|()| deps)
    }

    /// Plans one required field as if the client had selected it (no alias, no arguments).
    fn plan_requirement(
        &mut self,
        step: usize,
        at: &[SelKey],
        node: Node,
        item: &FieldSetItem,
        path: &[String],
    ) -> Result<(), PlanError> {
        match item {
            FieldSetItem::Field {
                name,
                arguments,
                children,
            } => {
                let Some(fid) = self.sg.field_id(node.ty, name) else {
                    if name == "__typename" {
                        insert(self.selections_mut(step), at, SubSel::plain("__typename"));
                    }
                    return Ok(());
                };
                let ty = self.sg.field(fid).ty.clone();
                let child_name = ty.inner_named_type().to_string();
                let child_ty = self.sg.type_id(&child_name);
                let field = op::Field {
                    response_key: self
                        .requirement_key(name, arguments)
                        .unwrap_or_else(|| name.clone()),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    ty,
                    conditions: Vec::new(),
                    directives: Vec::new(),
                    selection_set: (!children.is_empty()).then(|| op::SelectionSet {
                        parent_type: child_name.clone(),
                        items: children
                            .iter()
                            .filter_map(|c| self.requirement_item(c, child_ty?))
                            .collect(),
                    }),
                };
                self.plan_field(step, at, node, &field, &[], path)
            }
            FieldSetItem::Fragment { .. } => Ok(()),
        }
    }

    /// A required field set item as a client selection on `parent_ty`.
    pub(super) fn requirement_item(
        &self,
        item: &FieldSetItem,
        parent_ty: TypeId,
    ) -> Option<op::Selection> {
        match item {
            FieldSetItem::Field {
                name,
                children,
                arguments,
            } => {
                let fid = self.sg.field_id(parent_ty, name);
                let ty = match fid {
                    Some(f) => self.sg.field(f).ty.clone(),
                    None => apollo_compiler::ast::Type::Named(apollo_compiler::name!("String"))
                        .non_null(),
                };
                let child_ty =
                    fid.and_then(|f| self.sg.type_id(self.sg.field(f).ty.inner_named_type()));
                Some(op::Selection::Field(op::Field {
                    response_key: self
                        .requirement_key(name, arguments)
                        .unwrap_or_else(|| name.clone()),
                    name: name.clone(),
                    arguments: arguments.clone(),
                    ty,
                    conditions: Vec::new(),
                    directives: Vec::new(),
                    selection_set: match child_ty {
                        Some(t) if !children.is_empty() => Some(op::SelectionSet {
                            parent_type: self.sg.type_def(t).name.to_string(),
                            items: children
                                .iter()
                                .filter_map(|c| self.requirement_item(c, t))
                                .collect(),
                        }),
                        _ => None,
                    },
                }))
            }
            FieldSetItem::Fragment {
                type_condition,
                children,
            } => {
                let t = self.sg.type_id(type_condition)?;
                Some(op::Selection::InlineFragment(op::InlineFragment {
                    type_condition: Some(type_condition.clone()),
                    possible_types: self
                        .possible_objects(t)
                        .into_iter()
                        .map(|o| self.sg.type_def(o).name.to_string())
                        .collect(),
                    conditions: Vec::new(),
                    defer: None,
                    selection_set: op::SelectionSet {
                        parent_type: type_condition.clone(),
                        items: children
                            .iter()
                            .filter_map(|c| self.requirement_item(c, t))
                            .collect(),
                    },
                }))
            }
        }
    }
}
