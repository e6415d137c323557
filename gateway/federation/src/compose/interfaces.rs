//! Interface rules that need every subgraph at once (Apollo's `validateInterfaceKeys`,
//! `validateInterfaceObjects`, `addTypesShallow`'s `@interfaceObject` check, and the
//! post-merge check that implementations have every interface field).

use apollo_compiler::schema::ExtendedType;

use super::errors::{Diagnostics, Place};
use super::merge::{Context, Occurrence};
use super::merged::{Kind, Merged};
use super::mismatch::{join_and, subgraphs_list};
use super::subgraph::Subgraph;
use super::usage::implementations;

/// Checks one type that merges as an interface (defined as an interface, or as an
/// `@interfaceObject` standing for one).
pub(super) fn check_interface_type(
    ctx: &Context,
    name: &str,
    occurrences: &[Occurrence],
    d: &mut Diagnostics,
) {
    let is_real = |o: &&Occurrence| matches!(o.ty, ExtendedType::Interface(_));
    if !occurrences.iter().any(|o| is_real(&o)) {
        only_interface_objects(name, occurrences, d);
        return;
    }
    let supergraph_implementations = ctx.implementations(name);
    for o in occurrences {
        if is_real(&o) {
            key_needs_every_implementation(name, o, &supergraph_implementations, d);
        } else {
            interface_object_without_implementations(name, o, &supergraph_implementations, d);
        }
    }
}

/// `@interfaceObject` stands for an interface some other subgraph defines; with no such
/// subgraph, nothing tells which types the objects really are.
fn only_interface_objects(name: &str, occurrences: &[Occurrence], d: &mut Diagnostics) {
    let subgraphs: Vec<String> = occurrences
        .iter()
        .map(|o| format!("\"{}\"", o.sg.name))
        .collect();
    d.error_with_hint(
        "INTERFACE_OBJECT_USAGE_ERROR",
        format!(
            "Type \"{name}\" is declared with @interfaceObject in all the subgraphs in which it is defined (it is defined in {} but should be defined as an interface in at least one subgraph)",
            subgraphs_list(&subgraphs)
        ),
        occurrences.iter().map(|o| o.sg.place(o.ty.location())).collect(),
        format!("define `interface {name}` (with its implementations) in the subgraph that owns it"),
    );
}

/// A resolvable `@key` on an interface means the subgraph can resolve any implementation
/// from the key: it must know every implementation the supergraph has.
fn key_needs_every_implementation(
    name: &str,
    o: &Occurrence,
    supergraph_implementations: &[String],
    d: &mut Diagnostics,
) {
    let n = &o.sg.names;
    let resolvable_key = o.ty.directives().get_all(&n.key).find(|k| {
        k.specified_argument_by_name("resolvable")
            .and_then(|v| v.to_bool())
            .unwrap_or(true)
    });
    let Some(key) = resolvable_key else {
        return;
    };
    let local = implementations(o.sg, o.ty.name());
    let missing: Vec<String> = supergraph_implementations
        .iter()
        .filter(|s| !local.iter().any(|l| l == s.as_str()))
        .map(|s| format!("\"{s}\""))
        .collect();
    if missing.is_empty() {
        return;
    }
    let sg = &o.sg.name;
    d.error(
        "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE",
        format!(
            "[{sg}] Interface type \"{name}\" has a resolvable key ({}) in subgraph \"{sg}\" but that subgraph is missing some of the supergraph implementation types of \"{name}\". Subgraph \"{sg}\" should define {} (and have {} implement \"{name}\").",
            key.node,
            types_list(&missing),
            if missing.len() > 1 { "them" } else { "it" }
        ),
        vec![o.sg.place(key.location())],
    );
}

/// An `@interfaceObject` resolves its fields for every implementation; a subgraph using one
/// must leave the implementation types to others.
fn interface_object_without_implementations(
    name: &str,
    o: &Occurrence,
    supergraph_implementations: &[String],
    d: &mut Diagnostics,
) {
    let defined: Vec<&ExtendedType> = supergraph_implementations
        .iter()
        .filter_map(|i| o.sg.schema.types.get(i.as_str()))
        .collect();
    if defined.is_empty() {
        return;
    }
    let names: Vec<String> = defined
        .iter()
        .map(|t| format!("\"{}\"", t.name()))
        .collect();
    let sg = &o.sg.name;
    let mut places = vec![o.sg.place(o.ty.location())];
    places.extend(defined.iter().map(|t| o.sg.place(t.location())));
    d.error(
        "INTERFACE_OBJECT_USAGE_ERROR",
        format!(
            "[{sg}] Interface type \"{name}\" is defined as an @interfaceObject in subgraph \"{sg}\" so that subgraph should not define any of the implementation types of \"{name}\", but it defines {}",
            types_list(&names)
        ),
        places,
    );
}

/// `type "A"` or `types "A" and "B"`, from quoted names.
fn types_list(quoted: &[String]) -> String {
    let prefix = if quoted.len() == 1 { "type" } else { "types" };
    format!("{prefix} {}", join_and(quoted))
}

/// After merging, every object or interface has every field of the interfaces it implements.
/// A field an interface gets in one subgraph is missing from an implementation defined only
/// in subgraphs where the interface lacks it.
pub fn post_merge(subgraphs: &[Subgraph], merged: &Merged, d: &mut Diagnostics) {
    for (tname, ty) in &merged.types {
        if !matches!(ty.kind, Kind::Object | Kind::Interface) {
            continue;
        }
        for iname in &ty.implements {
            let Some(interface) = merged.types.get(iname) else {
                continue;
            };
            for fname in interface.fields.keys() {
                if !ty.fields.contains_key(fname) {
                    missing_field(subgraphs, tname, iname, fname, d);
                }
            }
        }
    }
}

fn missing_field(
    subgraphs: &[Subgraph],
    tname: &str,
    iname: &str,
    fname: &str,
    d: &mut Diagnostics,
) {
    let mut with_field = Vec::new();
    let mut implementing = Vec::new();
    let mut places: Vec<Place> = Vec::new();
    for sg in subgraphs {
        if let Some(ExtendedType::Interface(i)) = sg.schema.types.get(iname)
            && let Some(f) = i.fields.get(fname)
        {
            with_field.push(format!("\"{}\"", sg.name));
            places.push(sg.place(f.location()));
        }
    }
    for sg in subgraphs {
        let implements = match sg.schema.types.get(tname) {
            Some(ExtendedType::Object(o)) => o.implements_interfaces.contains(iname),
            Some(ExtendedType::Interface(o)) => o.implements_interfaces.contains(iname),
            _ => false,
        };
        if implements {
            implementing.push(format!("\"{}\"", sg.name));
            places.push(sg.place(sg.schema.types.get(tname).and_then(|t| t.location())));
        }
    }
    d.error_with_hint(
        "INTERFACE_FIELD_NO_IMPLEM",
        format!(
            "Interface field \"{iname}.{fname}\" is declared in {} but type \"{tname}\", which implements \"{iname}\" only in {} does not have field \"{fname}\".",
            subgraphs_list(&with_field),
            subgraphs_list(&implementing)
        ),
        places,
        format!("add field \"{fname}\" to type \"{tname}\" in a subgraph that defines it"),
    );
}
