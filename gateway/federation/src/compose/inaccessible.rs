//! `@inaccessible` rules on the merged supergraph (Apollo's `validateInaccessibleElements`),
//! checked before printing so that the supergraph always has a valid API schema: what stays
//! in the API schema must not reference what is removed from it, a type in the API schema
//! keeps at least one field (member, value), required arguments and input fields stay, the
//! query root stays, and an interface field (argument) in the API schema keeps its
//! implementations. Errors point at the subgraph definitions involved.

use apollo_compiler::ast::Value;
use apollo_compiler::parser::SourceSpan;
use apollo_compiler::schema::ExtendedType;

use super::errors::{Diagnostics, Place};
use super::merged::{Kind, Merged, MergedArgument, MergedField, MergedType};
use super::subgraph::Subgraph;

pub fn validate(subgraphs: &[Subgraph], merged: &Merged, d: &mut Diagnostics) {
    let check = Check {
        subgraphs,
        merged,
        default_refs: default_value_references(merged),
    };
    for (name, ty) in &merged.types {
        if hidden(&ty.directives) {
            check.hidden_type(name, d);
        } else {
            check.visible_type(name, ty, d);
        }
    }
    composed_directive_arguments(subgraphs, d);
}

/// Whether printed directive applications hide the element.
fn hidden(directives: &[String]) -> bool {
    directives.iter().any(|d| d == "@inaccessible")
}

/// Whether an argument or input field must be given a value.
fn is_required(ty: &str, default: &Option<apollo_compiler::Node<Value>>) -> bool {
    ty.ends_with('!') && default.is_none()
}

/// The named type inside a printed type reference (`[Int!]!` → `Int`).
fn named(ty: &str) -> &str {
    ty.trim_matches(|c| matches!(c, '[' | ']' | '!'))
}

/// An element of the supergraph, to find its definitions in the subgraphs.
#[derive(Clone, Copy)]
enum Coord<'a> {
    Type(&'a str),
    /// A field, input field or enum value.
    Member(&'a str, &'a str),
    Argument(&'a str, &'a str, &'a str),
}

impl Coord<'_> {
    fn show(self) -> String {
        match self {
            Coord::Type(t) => t.to_owned(),
            Coord::Member(t, f) => format!("{t}.{f}"),
            Coord::Argument(t, f, a) => format!("{t}.{f}({a}:)"),
        }
    }
}

/// A reference from a default value (of `Coord`) to an input field or enum value.
struct DefaultRef<'a> {
    /// The input object or enum type, and the field or value name.
    target: (String, String),
    referencer: Coord<'a>,
}

struct Check<'a> {
    subgraphs: &'a [Subgraph],
    merged: &'a Merged,
    default_refs: Vec<DefaultRef<'a>>,
}

impl<'a> Check<'a> {
    fn in_api(&self, coord: Coord) -> bool {
        let Some(ty) = self.merged.types.get(match coord {
            Coord::Type(t) | Coord::Member(t, _) | Coord::Argument(t, _, _) => t,
        }) else {
            return false;
        };
        if hidden(&ty.directives) {
            return false;
        }
        match coord {
            Coord::Type(_) => true,
            Coord::Member(_, m) => match ty.kind {
                Kind::Enum => ty.values.get(m).is_some_and(|v| !hidden(&v.directives)),
                _ => ty.fields.get(m).is_some_and(|f| !hidden(&f.directives)),
            },
            Coord::Argument(_, f, a) => ty.fields.get(f).is_some_and(|f| {
                !hidden(&f.directives) && f.arguments.get(a).is_some_and(|a| !hidden(&a.directives))
            }),
        }
    }

    /// Where the subgraphs define `coord` (only where they mark it `@inaccessible`, if
    /// `marked`).
    fn places(&self, coord: Coord, marked: bool) -> Vec<Place> {
        let mut out = Vec::new();
        for sg in self.subgraphs {
            if let Some((location, is_marked)) = find(sg, coord)
                && (!marked || is_marked)
            {
                out.push(sg.place(location));
            }
        }
        out
    }

    fn hidden_type(&self, name: &'a str, d: &mut Diagnostics) {
        for referencer in self.type_references(name) {
            if self.in_api(referencer) {
                let mut places = self.places(Coord::Type(name), true);
                places.extend(self.places(referencer, false));
                d.error_with_hint(
                    "REFERENCED_INACCESSIBLE",
                    format!(
                        "Type \"{name}\" is @inaccessible but is referenced by \"{}\", which is in the API schema.",
                        referencer.show()
                    ),
                    places,
                    format!("mark \"{}\" @inaccessible too, or make \"{name}\" accessible", referencer.show()),
                );
            }
        }
        if name == "Query" && self.merged.roots[0] {
            d.error_with_hint(
                "QUERY_ROOT_TYPE_INACCESSIBLE",
                format!("Type \"{name}\" is @inaccessible but is the root query type, which must be in the API schema."),
                self.places(Coord::Type(name), true),
                "hide the root fields one by one instead",
            );
        }
    }

    /// Fields, arguments and input fields whose type is `name`.
    fn type_references(&self, name: &str) -> Vec<Coord<'a>> {
        let mut out = Vec::new();
        for (tname, ty) in &self.merged.types {
            for (fname, f) in &ty.fields {
                if named(&f.ty) == name {
                    out.push(Coord::Member(tname, fname));
                }
                for (aname, a) in &f.arguments {
                    if named(&a.ty) == name {
                        out.push(Coord::Argument(tname, fname, aname));
                    }
                }
            }
        }
        out
    }

    fn visible_type(&self, name: &'a str, ty: &'a MergedType, d: &mut Diagnostics) {
        self.only_hidden_children(name, ty, d);
        match ty.kind {
            Kind::Object | Kind::Interface => {
                for (fname, f) in &ty.fields {
                    if hidden(&f.directives) {
                        self.hidden_field(name, ty, fname, d);
                    } else {
                        for (aname, a) in &f.arguments {
                            if hidden(&a.directives) {
                                self.hidden_argument(name, ty, fname, aname, a, d);
                            }
                        }
                    }
                }
            }
            Kind::InputObject => {
                for (fname, f) in &ty.fields {
                    if hidden(&f.directives) {
                        self.hidden_input_field(name, fname, f, d);
                    }
                }
            }
            Kind::Enum => {
                for (vname, v) in &ty.values {
                    if hidden(&v.directives) {
                        self.used_in_defaults(name, vname, "Enum value", d);
                    }
                }
            }
            Kind::Scalar | Kind::Union => {}
        }
    }

    /// A type in the API schema needs something left in it.
    fn only_hidden_children(&self, name: &'a str, ty: &MergedType, d: &mut Diagnostics) {
        let (children, what): (Vec<(&String, bool)>, &str) = match ty.kind {
            Kind::Object | Kind::Interface => (
                ty.fields
                    .iter()
                    .map(|(n, f)| (n, hidden(&f.directives)))
                    .collect(),
                "fields",
            ),
            Kind::InputObject => (
                ty.fields
                    .iter()
                    .map(|(n, f)| (n, hidden(&f.directives)))
                    .collect(),
                "input fields",
            ),
            Kind::Enum => (
                ty.values
                    .iter()
                    .map(|(n, v)| (n, hidden(&v.directives)))
                    .collect(),
                "values",
            ),
            Kind::Union => (
                ty.members
                    .iter()
                    .map(|m| {
                        (
                            m,
                            self.merged
                                .types
                                .get(m)
                                .is_some_and(|t| hidden(&t.directives)),
                        )
                    })
                    .collect(),
                "members",
            ),
            Kind::Scalar => return,
        };
        if children.iter().any(|(_, hidden)| !hidden) {
            return;
        }
        let mut places = Vec::new();
        for (child, _) in &children {
            let coord = match ty.kind {
                Kind::Union => Coord::Type(child),
                _ => Coord::Member(name, child),
            };
            places.extend(self.places(coord, true));
        }
        d.error_with_hint(
            "ONLY_INACCESSIBLE_CHILDREN",
            format!(
                "Type \"{name}\" is in the API schema but all of its {what} are @inaccessible."
            ),
            places,
            format!("make one of its {what} accessible, or mark \"{name}\" @inaccessible too"),
        );
    }

    /// A hidden field may not implement an interface field the API schema keeps.
    fn hidden_field(&self, name: &'a str, ty: &MergedType, fname: &'a str, d: &mut Diagnostics) {
        for iname in &ty.implements {
            let implemented = Coord::Member(iname, fname);
            let exists = self
                .merged
                .types
                .get(iname)
                .is_some_and(|i| i.fields.contains_key(fname));
            if exists && self.in_api(implemented) {
                let mut places = self.places(Coord::Member(name, fname), true);
                places.extend(self.places(implemented, false));
                d.error_with_hint(
                    "IMPLEMENTED_BY_INACCESSIBLE",
                    format!(
                        "Field \"{name}.{fname}\" is @inaccessible but implements the interface field \"{iname}.{fname}\", which is in the API schema."
                    ),
                    places,
                    format!("mark \"{iname}.{fname}\" @inaccessible too"),
                );
            }
        }
    }

    /// A hidden argument may not be required, nor be required by an implementation, nor
    /// implement an interface argument the API schema keeps.
    fn hidden_argument(
        &self,
        name: &'a str,
        ty: &MergedType,
        fname: &'a str,
        aname: &'a str,
        a: &MergedArgument,
        d: &mut Diagnostics,
    ) {
        let coord = Coord::Argument(name, fname, aname);
        if is_required(&a.ty, &a.default_value) {
            d.error_with_hint(
                "REQUIRED_INACCESSIBLE",
                format!("Argument \"{}\" is @inaccessible but is a required argument of its field.", coord.show()),
                self.places(coord, true),
                "make the argument optional (nullable or with a default value), or keep it accessible",
            );
        }
        if ty.kind == Kind::Interface {
            for (iname, implementation) in &self.merged.types {
                if !implementation.implements.iter().any(|i| i == name) {
                    continue;
                }
                let Some(arg) = implementation
                    .fields
                    .get(fname)
                    .and_then(|f| f.arguments.get(aname))
                else {
                    continue;
                };
                let implementing = Coord::Argument(iname, fname, aname);
                if self.in_api(implementing) && is_required(&arg.ty, &arg.default_value) {
                    let mut places = self.places(coord, true);
                    places.extend(self.places(implementing, false));
                    d.error(
                        "REQUIRED_INACCESSIBLE",
                        format!(
                            "Argument \"{}\" is @inaccessible but is implemented by the required argument \"{}\", which is in the API schema.",
                            coord.show(),
                            implementing.show()
                        ),
                        places,
                    );
                }
            }
        }
        for iname in &ty.implements {
            let implemented = Coord::Argument(iname, fname, aname);
            let exists = self.merged.types.get(iname).is_some_and(|i| {
                i.fields
                    .get(fname)
                    .is_some_and(|f| f.arguments.contains_key(aname))
            });
            if exists && self.in_api(implemented) {
                let mut places = self.places(coord, true);
                places.extend(self.places(implemented, false));
                d.error(
                    "IMPLEMENTED_BY_INACCESSIBLE",
                    format!(
                        "Argument \"{}\" is @inaccessible but implements the interface argument \"{}\", which is in the API schema.",
                        coord.show(),
                        implemented.show()
                    ),
                    places,
                );
            }
        }
    }

    fn hidden_input_field(
        &self,
        name: &'a str,
        fname: &'a str,
        f: &MergedField,
        d: &mut Diagnostics,
    ) {
        if is_required(&f.ty, &f.default_value) {
            d.error_with_hint(
                "REQUIRED_INACCESSIBLE",
                format!("Input field \"{name}.{fname}\" is @inaccessible but is a required input field of its type."),
                self.places(Coord::Member(name, fname), true),
                "make the input field optional (nullable or with a default value), or keep it accessible",
            );
        }
        self.used_in_defaults(name, fname, "Input field", d);
    }

    /// A hidden input field or enum value may not appear in a default value the API schema
    /// shows.
    fn used_in_defaults(&self, name: &'a str, member: &'a str, what: &str, d: &mut Diagnostics) {
        for r in &self.default_refs {
            if r.target.0 != name || r.target.1 != member || !self.in_api(r.referencer) {
                continue;
            }
            let mut places = self.places(Coord::Member(name, member), true);
            places.extend(self.places(r.referencer, false));
            d.error(
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                format!(
                    "{what} \"{name}.{member}\" is @inaccessible but is used in the default value of \"{}\", which is in the API schema.",
                    r.referencer.show()
                ),
                places,
            );
        }
    }
}

/// Every input field and enum value that the default values of the supergraph mention.
fn default_value_references(merged: &Merged) -> Vec<DefaultRef<'_>> {
    let mut out = Vec::new();
    for (tname, ty) in &merged.types {
        for (fname, f) in &ty.fields {
            if let Some(v) = &f.default_value {
                value_references(
                    merged,
                    named(&f.ty),
                    v,
                    Coord::Member(tname, fname),
                    &mut out,
                );
            }
            for (aname, a) in &f.arguments {
                if let Some(v) = &a.default_value {
                    let coord = Coord::Argument(tname, fname, aname);
                    value_references(merged, named(&a.ty), v, coord, &mut out);
                }
            }
        }
    }
    out
}

fn value_references<'a>(
    merged: &Merged,
    ty: &str,
    value: &Value,
    referencer: Coord<'a>,
    out: &mut Vec<DefaultRef<'a>>,
) {
    match value {
        Value::List(items) => {
            for item in items {
                value_references(merged, ty, item, referencer, out);
            }
        }
        Value::Enum(v) => out.push(DefaultRef {
            target: (ty.to_owned(), v.to_string()),
            referencer,
        }),
        Value::Object(fields) => {
            for (fname, v) in fields {
                out.push(DefaultRef {
                    target: (ty.to_owned(), fname.to_string()),
                    referencer,
                });
                if let Some(field) = merged
                    .types
                    .get(ty)
                    .and_then(|t| t.fields.get(fname.as_str()))
                {
                    value_references(merged, named(&field.ty), v, referencer, out);
                }
            }
        }
        _ => {}
    }
}

/// A directive kept with `@composeDirective` belongs to a linked spec: its definition is the
/// spec's, and the supergraph cannot hide parts of it.
fn composed_directive_arguments(subgraphs: &[Subgraph], d: &mut Diagnostics) {
    let mut reported: Vec<&str> = Vec::new();
    for sg in subgraphs {
        for name in &sg.names.composed {
            let Some(def) = sg.schema.directive_definitions.get(name.as_str()) else {
                continue;
            };
            let hidden_args: Vec<Place> = def
                .arguments
                .iter()
                .filter(|a| a.directives.has(&sg.names.inaccessible))
                .map(|a| sg.place(a.location()))
                .collect();
            if hidden_args.is_empty() || reported.contains(&name.as_str()) {
                continue;
            }
            reported.push(name);
            d.error_with_hint(
                "DISALLOWED_INACCESSIBLE",
                format!("Core feature directive \"@{name}\" cannot use @inaccessible."),
                hidden_args,
                "remove @inaccessible from the directive's arguments",
            );
        }
    }
}

/// The subgraph's definition of `coord`: where it is, and whether it is `@inaccessible`
/// there.
fn find(sg: &Subgraph, coord: Coord) -> Option<(Option<SourceSpan>, bool)> {
    let type_name = match coord {
        Coord::Type(t) | Coord::Member(t, _) | Coord::Argument(t, _, _) => t,
    };
    let ty = local_type(sg, type_name)?;
    let marked =
        |directives: &apollo_compiler::ast::DirectiveList| directives.has(&sg.names.inaccessible);
    let fields = match ty {
        ExtendedType::Object(o) => Some(&o.fields),
        ExtendedType::Interface(i) => Some(&i.fields),
        _ => None,
    };
    match coord {
        Coord::Type(_) => Some((ty.location(), ty.directives().has(&sg.names.inaccessible))),
        Coord::Member(_, m) => match ty {
            ExtendedType::InputObject(io) => {
                let f = io.fields.get(m)?;
                Some((f.location(), marked(&f.directives)))
            }
            ExtendedType::Enum(e) => {
                let v = e.values.get(m)?;
                Some((v.location(), marked(&v.directives)))
            }
            _ => {
                let f = fields?.get(m)?;
                Some((f.location(), marked(&f.directives)))
            }
        },
        Coord::Argument(_, f, a) => {
            let arg = fields?.get(f)?.arguments.iter().find(|x| x.name == a)?;
            Some((arg.location(), marked(&arg.directives)))
        }
    }
}

/// A subgraph's type by its supergraph name (root types may go by another name locally).
fn local_type<'s>(sg: &'s Subgraph, name: &str) -> Option<&'s ExtendedType> {
    const ROOTS: [&str; 3] = ["Query", "Mutation", "Subscription"];
    let local = ROOTS
        .iter()
        .position(|r| *r == name)
        .and_then(|i| sg.roots[i].as_ref())
        .map_or(name, |n| n.as_str());
    sg.schema.types.get(local)
}
