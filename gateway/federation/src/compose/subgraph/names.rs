//! The local names of federation's directives and types in one subgraph: as its `@link` to
//! the federation spec imports and renames them (`@federation__x` otherwise), or the bare
//! names of Federation 1.

use crate::supergraph::links::LinkedSpec;

/// Local names of the federation directives and types in one subgraph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FedNames {
    pub key: String,
    pub requires: String,
    pub provides: String,
    pub external: String,
    pub extends: String,
    pub shareable: String,
    pub inaccessible: String,
    pub override_: String,
    pub tag: String,
    pub interface_object: String,
    pub compose_directive: String,
    pub authenticated: String,
    pub requires_scopes: String,
    pub policy: String,
    pub context: String,
    pub from_context: String,
    pub cost: String,
    pub list_size: String,
    pub cache_tag: String,
    /// Local names (without `@`) of custom directives kept by `@composeDirective`.
    pub composed: Vec<String>,
    /// Those of `composed` that this subgraph defines as repeatable.
    pub composed_repeatable: Vec<String>,
    pub field_set: String,
    pub scope: String,
    pub policy_type: String,
    pub context_field_value: String,
}

impl FedNames {
    pub(super) fn resolve(federation: Option<&LinkedSpec>) -> FedNames {
        let d = |element: &str| match federation {
            Some(spec) => spec.directive(element),
            None => element.to_owned(),
        };
        let t = |element: &str, fed1: &str| match federation {
            Some(spec) => spec.type_name(element),
            None => fed1.to_owned(),
        };
        FedNames {
            key: d("key"),
            requires: d("requires"),
            provides: d("provides"),
            external: d("external"),
            extends: d("extends"),
            shareable: d("shareable"),
            inaccessible: d("inaccessible"),
            override_: d("override"),
            tag: d("tag"),
            interface_object: d("interfaceObject"),
            compose_directive: d("composeDirective"),
            authenticated: d("authenticated"),
            requires_scopes: d("requiresScopes"),
            policy: d("policy"),
            context: d("context"),
            from_context: d("fromContext"),
            cost: d("cost"),
            list_size: d("listSize"),
            cache_tag: d("cacheTag"),
            composed: Vec::new(),
            composed_repeatable: Vec::new(),
            field_set: t("FieldSet", "_FieldSet"),
            scope: t("Scope", "federation__Scope"),
            policy_type: t("Policy", "federation__Policy"),
            context_field_value: t("ContextFieldValue", "federation__ContextFieldValue"),
        }
    }

    /// Whether `name` (a directive, without `@`) is one of federation's.
    pub fn is_federation_directive(&self, name: &str) -> bool {
        [
            &self.key,
            &self.requires,
            &self.provides,
            &self.external,
            &self.extends,
            &self.shareable,
            &self.inaccessible,
            &self.override_,
            &self.tag,
            &self.interface_object,
            &self.compose_directive,
            &self.authenticated,
            &self.requires_scopes,
            &self.policy,
            &self.context,
            &self.from_context,
            &self.cost,
            &self.list_size,
            &self.cache_tag,
        ]
        .iter()
        .any(|n| n.as_str() == name)
            || name == "link"
            || name.starts_with("federation__")
    }

    /// Whether `name` is a type that only exists for federation's directives.
    pub fn is_federation_type(&self, name: &str) -> bool {
        [
            &self.field_set,
            &self.scope,
            &self.policy_type,
            &self.context_field_value,
        ]
        .iter()
        .any(|n| n.as_str() == name)
            || matches!(
                name,
                "_Any"
                    | "_Entity"
                    | "_Service"
                    | "_FieldSet"
                    | "FieldSet"
                    | "link__Import"
                    | "link__Purpose"
            )
            || name.starts_with("federation__")
            || name.starts_with("link__")
    }
}
