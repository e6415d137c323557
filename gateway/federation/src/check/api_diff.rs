//! API schema diff. Classification follows graphql-js's `findBreakingChanges` and
//! `findDangerousChanges`; everything else (additions, descriptions, deprecations) is safe.

use apollo_compiler::Schema;
use apollo_compiler::ast::{DirectiveList, Type, Value};
use apollo_compiler::schema::{ExtendedType, InputValueDefinition};
use apollo_compiler::{Name, Node};

use super::{Category, Change, Severity};

/// Every change from `old` to `new`, in schema order.
pub fn diff(old: &Schema, new: &Schema) -> Vec<Change> {
    let mut d = Differ {
        out: Vec::new(),
        descriptions: true,
    };
    for (name, old_ty) in &old.types {
        if old_ty.is_built_in() {
            continue;
        }
        match new.types.get(name) {
            None => d.push(
                Severity::Breaking,
                "TYPE_REMOVED",
                name,
                format!("Type `{name}` was removed"),
            ),
            Some(new_ty) if kind(old_ty) != kind(new_ty) => d.push(
                Severity::Breaking,
                "TYPE_CHANGED_KIND",
                name,
                format!("`{name}` changed from {} to {}", kind(old_ty), kind(new_ty)),
            ),
            Some(new_ty) => d.type_changes(name, old_ty, new_ty),
        }
    }
    for (name, ty) in &new.types {
        if !ty.is_built_in() && !old.types.contains_key(name) {
            d.push(
                Severity::Safe,
                "TYPE_ADDED",
                name,
                format!("Type `{name}` was added"),
            );
        }
    }
    d.roots(old, new);
    d.descriptions = carries_directive_descriptions(old);
    for (name, old_dir) in &old.directive_definitions {
        if old_dir.is_built_in() {
            continue;
        }
        let path = format!("@{name}");
        let Some(new_dir) = new.directive_definitions.get(name) else {
            d.push(
                Severity::Breaking,
                "DIRECTIVE_REMOVED",
                &path,
                format!("Directive `{path}` was removed"),
            );
            continue;
        };
        for loc in &old_dir.locations {
            if !new_dir.locations.contains(loc) {
                d.push(
                    Severity::Breaking,
                    "DIRECTIVE_LOCATION_REMOVED",
                    &path,
                    format!("Location {loc} was removed from `{path}`"),
                );
            }
        }
        if old_dir.repeatable && !new_dir.repeatable {
            d.push(
                Severity::Breaking,
                "DIRECTIVE_REPEATABLE_REMOVED",
                &path,
                format!("`{path}` is no longer repeatable"),
            );
        }
        d.arguments(&path, &old_dir.arguments, &new_dir.arguments);
        d.description(
            &path,
            old_dir.description.as_deref(),
            new_dir.description.as_deref(),
        );
    }
    for (name, dir) in &new.directive_definitions {
        if !dir.is_built_in() && !old.directive_definitions.contains_key(name) {
            d.push(
                Severity::Safe,
                "DIRECTIVE_ADDED",
                &format!("@{name}"),
                format!("Directive `@{name}` was added"),
            );
        }
    }
    d.out
}

/// Whether `old` can be trusted on directive descriptions: some directive it defines has one.
/// Hive's composition leaves executable directives' descriptions out of the supergraph (a
/// gateway serving it shows none, and recomposing keeps them out), so against such a base a
/// description on a directive is no change a client would see; comparing it would make every
/// unchanged proposal report one. A base that has directives and describes none of them is
/// read that way (docs/decisions.md).
fn carries_directive_descriptions(old: &Schema) -> bool {
    let mut custom = old
        .directive_definitions
        .values()
        .filter(|d| !d.is_built_in())
        .peekable();
    custom.peek().is_none() || custom.any(|d| d.description.is_some())
}

/// A default value as graphql-js compares them (as introspection shows them, after input
/// coercion): object fields sorted, a single value given for a list wrapped in a list.
fn canonical_value(value: &Value, ty: &Type) -> String {
    match (value, ty) {
        (Value::List(items), Type::List(inner) | Type::NonNullList(inner)) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| canonical_value(v, inner))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (Value::Null, _) => "null".to_owned(),
        (other, Type::List(inner) | Type::NonNullList(inner)) => {
            format!("[{}]", canonical_value(other, inner))
        }
        (Value::Object(fields), _) => {
            let mut printed: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}: {}", canonical_value(v, &Type::Named(k.clone()))))
                .collect();
            printed.sort();
            format!("{{{}}}", printed.join(", "))
        }
        (other, _) => other.serialize().no_indent().to_string(),
    }
}

fn kind(ty: &ExtendedType) -> &'static str {
    match ty {
        ExtendedType::Scalar(_) => "a scalar",
        ExtendedType::Object(_) => "an object type",
        ExtendedType::Interface(_) => "an interface",
        ExtendedType::Union(_) => "a union",
        ExtendedType::Enum(_) => "an enum",
        ExtendedType::InputObject(_) => "an input object",
    }
}

struct Differ {
    out: Vec<Change>,
    /// Whether descriptions are compared (see [`carries_directive_descriptions`]).
    descriptions: bool,
}

impl Differ {
    /// Root operation types (`schema { mutation: ... }`). graphql-js does not compare them;
    /// GraphQL Inspector calls every change breaking. A root removed or pointed at another type
    /// breaks every operation of that kind (they validate against another type or not at all);
    /// a root added breaks nothing, so it is safe (docs/check.md).
    fn roots(&mut self, old: &Schema, new: &Schema) {
        let (o, n) = (&old.schema_definition, &new.schema_definition);
        for (kind, before, after) in [
            ("query", &o.query, &n.query),
            ("mutation", &o.mutation, &n.mutation),
            ("subscription", &o.subscription, &n.subscription),
        ] {
            let path = format!("schema.{kind}");
            match (before, after) {
                (Some(b), Some(a)) if b.name != a.name => self.push(
                    Severity::Breaking,
                    "ROOT_TYPE_CHANGED",
                    &path,
                    format!(
                        "The {kind} root type changed from `{}` to `{}`",
                        b.name, a.name
                    ),
                ),
                (Some(b), None) => self.push(
                    Severity::Breaking,
                    "ROOT_TYPE_REMOVED",
                    &path,
                    format!(
                        "The schema no longer has a {kind} root type (was `{}`)",
                        b.name
                    ),
                ),
                (None, Some(a)) => self.push(
                    Severity::Safe,
                    "ROOT_TYPE_ADDED",
                    &path,
                    format!("The schema has a {kind} root type now: `{}`", a.name),
                ),
                _ => {}
            }
        }
    }

    fn push(&mut self, severity: Severity, code: &'static str, path: &str, message: String) {
        self.out.push(Change {
            severity,
            category: Category::Api,
            code,
            path: path.to_owned(),
            message,
        });
    }

    fn description(&mut self, path: &str, old: Option<&str>, new: Option<&str>) {
        if self.descriptions && old != new {
            self.push(
                Severity::Safe,
                "DESCRIPTION_CHANGED",
                path,
                format!("Description of `{path}` changed"),
            );
        }
    }

    fn deprecation(&mut self, path: &str, old: &DirectiveList, new: &DirectiveList) {
        let reason = |l: &DirectiveList| {
            l.get("deprecated").map(|d| {
                d.specified_argument_by_name("reason")
                    .and_then(|v| v.as_str())
                    .unwrap_or("No longer supported")
                    .to_owned()
            })
        };
        match (reason(old), reason(new)) {
            (None, Some(r)) => self.push(
                Severity::Safe,
                "DEPRECATION_ADDED",
                path,
                format!("`{path}` was deprecated: {r}"),
            ),
            (Some(_), None) => self.push(
                Severity::Safe,
                "DEPRECATION_REMOVED",
                path,
                format!("`{path}` is no longer deprecated"),
            ),
            (Some(a), Some(b)) if a != b => self.push(
                Severity::Safe,
                "DEPRECATION_REASON_CHANGED",
                path,
                format!("Deprecation reason of `{path}` changed"),
            ),
            _ => {}
        }
    }

    fn type_changes(&mut self, name: &Name, old: &ExtendedType, new: &ExtendedType) {
        self.description(
            name,
            old.description().map(|s| s.as_str()),
            new.description().map(|s| s.as_str()),
        );
        match (old, new) {
            (ExtendedType::Object(o), ExtendedType::Object(n)) => {
                self.implements(name, &o.implements_interfaces, &n.implements_interfaces);
                self.fields(name, &o.fields, &n.fields);
            }
            (ExtendedType::Interface(o), ExtendedType::Interface(n)) => {
                self.implements(name, &o.implements_interfaces, &n.implements_interfaces);
                self.fields(name, &o.fields, &n.fields);
            }
            (ExtendedType::Union(o), ExtendedType::Union(n)) => {
                for m in o.members.iter().filter(|m| !n.members.contains(*m)) {
                    self.push(
                        Severity::Breaking,
                        "UNION_MEMBER_REMOVED",
                        name,
                        format!("`{m}` was removed from union `{name}`"),
                    );
                }
                for m in n.members.iter().filter(|m| !o.members.contains(*m)) {
                    self.push(Severity::Dangerous, "UNION_MEMBER_ADDED", name, format!("`{m}` was added to union `{name}`: clients that switch on __typename may not handle it"));
                }
            }
            (ExtendedType::Enum(o), ExtendedType::Enum(n)) => {
                for (v, old_v) in &o.values {
                    let path = format!("{name}.{v}");
                    match n.values.get(v) {
                        None => self.push(
                            Severity::Breaking,
                            "ENUM_VALUE_REMOVED",
                            &path,
                            format!("Value `{v}` was removed from enum `{name}`"),
                        ),
                        Some(new_v) => {
                            self.description(
                                &path,
                                old_v.description.as_deref(),
                                new_v.description.as_deref(),
                            );
                            self.deprecation(&path, &old_v.directives, &new_v.directives);
                        }
                    }
                }
                for v in n.values.keys().filter(|v| !o.values.contains_key(*v)) {
                    self.push(
                        Severity::Dangerous,
                        "ENUM_VALUE_ADDED",
                        &format!("{name}.{v}"),
                        format!(
                            "Value `{v}` was added to enum `{name}`: clients may not handle it"
                        ),
                    );
                }
            }
            (ExtendedType::InputObject(o), ExtendedType::InputObject(n)) => {
                for (f, old_f) in &o.fields {
                    let path = format!("{name}.{f}");
                    match n.fields.get(f) {
                        None => self.push(
                            Severity::Breaking,
                            "INPUT_FIELD_REMOVED",
                            &path,
                            format!("Input field `{path}` was removed"),
                        ),
                        Some(new_f) => self.input_value(&path, "INPUT_FIELD", old_f, new_f),
                    }
                }
                for (f, new_f) in n.fields.iter().filter(|(f, _)| !o.fields.contains_key(*f)) {
                    let path = format!("{name}.{f}");
                    if is_required(new_f) {
                        self.push(
                            Severity::Breaking,
                            "REQUIRED_INPUT_FIELD_ADDED",
                            &path,
                            format!("Required input field `{path}` was added"),
                        );
                    } else {
                        self.push(
                            Severity::Dangerous,
                            "OPTIONAL_INPUT_FIELD_ADDED",
                            &path,
                            format!("Optional input field `{path}` was added"),
                        );
                    }
                }
            }
            (ExtendedType::Scalar(o), ExtendedType::Scalar(n)) => {
                let url = |d: &apollo_compiler::schema::DirectiveList| {
                    d.get("specifiedBy")
                        .and_then(|x| x.specified_argument_by_name("url"))
                        .map(|v| v.to_string())
                };
                if url(&o.directives) != url(&n.directives) {
                    self.push(
                        Severity::Safe,
                        "SCALAR_SPECIFIED_BY_CHANGED",
                        name,
                        format!("`@specifiedBy` of `{name}` changed"),
                    );
                }
            }
            _ => {}
        }
    }

    fn implements(
        &mut self,
        name: &Name,
        old: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
        new: &apollo_compiler::collections::IndexSet<apollo_compiler::schema::ComponentName>,
    ) {
        for i in old.iter().filter(|i| !new.contains(*i)) {
            self.push(
                Severity::Breaking,
                "IMPLEMENTED_INTERFACE_REMOVED",
                name,
                format!("`{name}` no longer implements `{i}`"),
            );
        }
        for i in new.iter().filter(|i| !old.contains(*i)) {
            self.push(
                Severity::Dangerous,
                "IMPLEMENTED_INTERFACE_ADDED",
                name,
                format!("`{name}` now implements `{i}`"),
            );
        }
    }

    fn fields(
        &mut self,
        name: &Name,
        old: &apollo_compiler::collections::IndexMap<
            Name,
            apollo_compiler::schema::Component<apollo_compiler::schema::FieldDefinition>,
        >,
        new: &apollo_compiler::collections::IndexMap<
            Name,
            apollo_compiler::schema::Component<apollo_compiler::schema::FieldDefinition>,
        >,
    ) {
        for (f, old_f) in old {
            let path = format!("{name}.{f}");
            let Some(new_f) = new.get(f) else {
                let deprecated = if old_f.directives.has("deprecated") {
                    " (it was deprecated)"
                } else {
                    ""
                };
                self.push(
                    Severity::Breaking,
                    "FIELD_REMOVED",
                    &path,
                    format!("Field `{path}` was removed{deprecated}"),
                );
                continue;
            };
            if !safe_output_change(&old_f.ty, &new_f.ty) {
                self.push(
                    Severity::Breaking,
                    "FIELD_CHANGED_KIND",
                    &path,
                    format!(
                        "Field `{path}` changed type from `{}` to `{}`",
                        old_f.ty, new_f.ty
                    ),
                );
            } else if old_f.ty != new_f.ty {
                self.push(
                    Severity::Safe,
                    "FIELD_TYPE_NARROWED",
                    &path,
                    format!(
                        "Field `{path}` changed type from `{}` to `{}`",
                        old_f.ty, new_f.ty
                    ),
                );
            }
            self.description(
                &path,
                old_f.description.as_deref(),
                new_f.description.as_deref(),
            );
            self.deprecation(&path, &old_f.directives, &new_f.directives);
            self.arguments(&path, &old_f.arguments, &new_f.arguments);
        }
        for f in new.keys().filter(|f| !old.contains_key(*f)) {
            self.push(
                Severity::Safe,
                "FIELD_ADDED",
                &format!("{name}.{f}"),
                format!("Field `{name}.{f}` was added"),
            );
        }
    }

    fn arguments(
        &mut self,
        owner: &str,
        old: &[Node<InputValueDefinition>],
        new: &[Node<InputValueDefinition>],
    ) {
        for old_a in old {
            let path = format!("{owner}({}:)", old_a.name);
            match new.iter().find(|a| a.name == old_a.name) {
                None => self.push(
                    Severity::Breaking,
                    "ARG_REMOVED",
                    &path,
                    format!("Argument `{path}` was removed"),
                ),
                Some(new_a) => self.input_value(&path, "ARG", old_a, new_a),
            }
        }
        for new_a in new.iter().filter(|a| !old.iter().any(|o| o.name == a.name)) {
            let path = format!("{owner}({}:)", new_a.name);
            if is_required(new_a) {
                self.push(
                    Severity::Breaking,
                    "REQUIRED_ARG_ADDED",
                    &path,
                    format!("Required argument `{path}` was added"),
                );
            } else {
                self.push(
                    Severity::Dangerous,
                    "OPTIONAL_ARG_ADDED",
                    &path,
                    format!("Optional argument `{path}` was added"),
                );
            }
        }
    }

    /// An argument or input field present before and after.
    fn input_value(
        &mut self,
        path: &str,
        what: &'static str,
        old: &InputValueDefinition,
        new: &InputValueDefinition,
    ) {
        if !safe_input_change(&old.ty, &new.ty) {
            let code = if what == "ARG" {
                "ARG_CHANGED_KIND"
            } else {
                "INPUT_FIELD_CHANGED_KIND"
            };
            self.push(
                Severity::Breaking,
                code,
                path,
                format!("`{path}` changed type from `{}` to `{}`", old.ty, new.ty),
            );
        } else if old.ty != new.ty {
            self.push(
                Severity::Safe,
                "INPUT_TYPE_RELAXED",
                path,
                format!("`{path}` changed type from `{}` to `{}`", old.ty, new.ty),
            );
        }
        let default =
            |v: &InputValueDefinition| v.default_value.as_ref().map(|d| canonical_value(d, &v.ty));
        if default(old) != default(new) {
            // A default on a field that was required changes nothing for values that were
            // valid before (they all set it).
            let severity = if old.ty.is_non_null() && old.default_value.is_none() {
                Severity::Safe
            } else {
                Severity::Dangerous
            };
            self.push(
                severity,
                "DEFAULT_VALUE_CHANGED",
                path,
                format!(
                    "Default value of `{path}` changed from {} to {}",
                    default(old).unwrap_or_else(|| "none".to_owned()),
                    default(new).unwrap_or_else(|| "none".to_owned())
                ),
            );
        }
        self.description(path, old.description.as_deref(), new.description.as_deref());
        self.deprecation(path, &old.directives, &new.directives);
    }
}

fn is_required(v: &InputValueDefinition) -> bool {
    v.ty.is_non_null() && v.default_value.is_none()
}

/// An output may get stricter (non-null) but not change what it names.
pub fn safe_output_change(old: &Type, new: &Type) -> bool {
    match old {
        Type::List(o) => {
            matches!(new, Type::List(n) if safe_output_change(o, n))
                || matches!(new, Type::NonNullList(n) if safe_output_change(o, n))
        }
        Type::NonNullList(o) => matches!(new, Type::NonNullList(n) if safe_output_change(o, n)),
        Type::NonNullNamed(o) => matches!(new, Type::NonNullNamed(n) if n == o),
        Type::Named(o) => matches!(new, Type::Named(n) | Type::NonNullNamed(n) if n == o),
    }
}

/// An input may get looser (nullable) but not change what it names.
pub fn safe_input_change(old: &Type, new: &Type) -> bool {
    match old {
        Type::List(o) => matches!(new, Type::List(n) if safe_input_change(o, n)),
        Type::NonNullList(o) => {
            matches!(new, Type::NonNullList(n) | Type::List(n) if safe_input_change(o, n))
        }
        Type::NonNullNamed(o) => matches!(new, Type::NonNullNamed(n) | Type::Named(n) if n == o),
        Type::Named(o) => matches!(new, Type::Named(n) if n == o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(old: &str, new: &str) -> Vec<(Severity, &'static str, String)> {
        let o = Schema::parse_and_validate(old, "old").expect("old");
        let n = Schema::parse_and_validate(new, "new").expect("new");
        diff(&o, &n)
            .into_iter()
            .map(|c| (c.severity, c.code, c.path))
            .collect()
    }

    #[test]
    fn classic_classifications() {
        let base = "type Query { a(x: Int): Int! b: String e: E u: U } enum E { A B } union U = T1 | T2 type T1 { id: ID } type T2 { id: ID } input I { f: Int }";
        assert!(changes(base, base).is_empty());
        let c = changes(base, &base.replace(" b: String", ""));
        assert_eq!(
            c,
            [(Severity::Breaking, "FIELD_REMOVED", "Query.b".to_owned())]
        );
        let c = changes(base, &base.replace("a(x: Int): Int!", "a(x: Int): Int"));
        assert_eq!(c[0].0, Severity::Breaking);
        let c = changes(base, &base.replace("b: String", "b: String!"));
        assert_eq!(c[0].0, Severity::Safe);
        let c = changes(base, &base.replace("a(x: Int)", "a(x: Int!)"));
        assert_eq!(c[0].1, "ARG_CHANGED_KIND");
        let c = changes(base, &base.replace("a(x: Int)", "a(x: Int = 3)"));
        assert_eq!(c[0].1, "DEFAULT_VALUE_CHANGED");
        let c = changes(base, &base.replace("a(x: Int)", "a(x: Int, y: Int!)"));
        assert_eq!(c[0].1, "REQUIRED_ARG_ADDED");
        let c = changes(base, &base.replace("enum E { A B }", "enum E { A B C }"));
        assert_eq!(c[0].0, Severity::Dangerous);
        let c = changes(base, &base.replace("enum E { A B }", "enum E { A }"));
        assert_eq!(c[0].1, "ENUM_VALUE_REMOVED");
        let c = changes(base, &base.replace("union U = T1 | T2", "union U = T1"));
        assert_eq!(c[0].1, "UNION_MEMBER_REMOVED");
        let c = changes(
            base,
            &base.replace("input I { f: Int }", "input I { f: Int g: Int! }"),
        );
        assert_eq!(c[0].1, "REQUIRED_INPUT_FIELD_ADDED");
    }

    #[test]
    fn type_rules() {
        use apollo_compiler::Name;
        let n = |s: &str| Name::new(s).expect("name");
        let named = |s: &str| Type::Named(n(s));
        assert!(safe_output_change(&named("Int"), &named("Int").non_null()));
        assert!(!safe_output_change(&named("Int").non_null(), &named("Int")));
        assert!(safe_input_change(&named("Int").non_null(), &named("Int")));
        assert!(!safe_input_change(&named("Int"), &named("Int").non_null()));
        assert!(!safe_output_change(&named("Int"), &named("String")));
    }
}
