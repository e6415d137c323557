#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! Composing the fixture subgraphs must give what Apollo composition gave for them
//! (compared semantically: types, fields, join metadata).

use std::path::{Path, PathBuf};

use weft_federation::Supergraph;
use weft_federation::compose::{SubgraphInput, compose};
use weft_federation::supergraph::compare::differences;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture's subgraphs, with the routing URLs Apollo's supergraph lists for them.
fn inputs(dir: &Path, apollo: &Supergraph) -> Vec<SubgraphInput> {
    apollo
        .subgraphs()
        .iter()
        .map(|g| {
            let path = dir.join("subgraphs").join(format!("{}.graphql", g.name));
            SubgraphInput {
                name: g.name.clone(),
                url: g.url.clone(),
                sdl: std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
                source: path.display().to_string(),
            }
        })
        .collect()
}

fn check(name: &str) {
    let dir = fixtures().join(name);
    let apollo_sdl = std::fs::read_to_string(dir.join("supergraph.graphql")).expect("fixture");
    let apollo = Supergraph::parse(&apollo_sdl, "apollo").expect("Apollo's supergraph loads");
    let composed = compose(&inputs(&dir, &apollo)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ours = Supergraph::parse(&composed.supergraph_sdl, "ours").unwrap_or_else(|e| {
        panic!(
            "{name}: our supergraph does not load: {e}\n{}",
            composed.supergraph_sdl
        )
    });
    let diffs = differences(&ours, &apollo);
    assert!(
        diffs.is_empty(),
        "{name}: {} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(
        ours.api_sdl(),
        apollo.api_sdl(),
        "{name}: API schemas differ"
    );
}

#[test]
fn reference_subgraphs_compose_like_apollo() {
    check("reference");
}

#[test]
fn federation_2_features_compose_like_apollo() {
    check("fed2-features");
}

#[test]
fn federation_1_subgraphs_compose_like_apollo() {
    check("fed1-in-fed2");
}

#[test]
fn the_comparison_sees_a_changed_join_argument() {
    let dir = fixtures().join("reference");
    let sdl = std::fs::read_to_string(dir.join("supergraph.graphql")).expect("fixture");
    let apollo = Supergraph::parse(&sdl, "apollo").expect("loads");
    let changed = sdl.replacen("requires: \"price weight\"", "requires: \"price\"", 1);
    let changed = Supergraph::parse(&changed, "changed").expect("loads");
    let diffs = differences(&changed, &apollo);
    assert_eq!(diffs.len(), 2, "{diffs:?}");
    assert!(
        diffs[0].starts_with("Product.shippingEstimate @join__field: only ours"),
        "{diffs:?}"
    );
}

/// The fixture `name`'s supergraph, and the one composed again from the subgraphs extracted
/// from it.
fn extract_and_recompose(name: &str) -> (Supergraph, Supergraph) {
    let sdl =
        std::fs::read_to_string(fixtures().join(name).join("supergraph.graphql")).expect("fixture");
    let original = Supergraph::parse(&sdl, name).expect("loads");
    let inputs: Vec<SubgraphInput> = original
        .subgraphs()
        .iter()
        .enumerate()
        .map(|(i, g)| SubgraphInput {
            name: g.name.clone(),
            url: g.url.clone(),
            sdl: weft_federation::supergraph::extract::subgraph_sdl(
                &original,
                weft_federation::supergraph::SubgraphId(i as u16),
            ),
            source: format!("{name}/{}(extracted)", g.name),
        })
        .collect();
    let composed = compose(&inputs).unwrap_or_else(|e| {
        let sdls: Vec<String> = inputs
            .iter()
            .map(|i| format!("# {}\n{}", i.name, i.sdl))
            .collect();
        panic!(
            "{name}: extracted subgraphs do not compose: {e}\n{}",
            sdls.join("\n")
        )
    });
    let again = Supergraph::parse(&composed.supergraph_sdl, "again").expect("loads");
    (original, again)
}

/// Subgraphs extracted from a supergraph recompose to the same supergraph.
fn round_trip(name: &str) {
    let (original, again) = extract_and_recompose(name);
    let diffs = differences(&again, &original);
    assert!(
        diffs.is_empty(),
        "{name}: {} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn extracted_subgraphs_recompose_reference() {
    round_trip("reference");
}

#[test]
fn extracted_subgraphs_recompose_fed1_in_fed2() {
    round_trip("fed1-in-fed2");
}

#[test]
fn extracted_subgraphs_recompose_fed2_features() {
    round_trip("fed2-features");
}

/// A Federation 1 supergraph (join v0.1) extracts to subgraphs whose Federation 2 composition
/// keeps every type, field and key (join v0.1 spells placement differently, so compare the
/// derived facts rather than raw join arguments).
#[test]
fn extracted_fed1_legacy_subgraphs_recompose() {
    let (original, again) = extract_and_recompose("fed1-legacy");
    assert_eq!(
        sorted_lines(&again.api_sdl()),
        sorted_lines(&original.api_sdl()),
        "API schemas differ beyond order"
    );
    for (id, ty) in original.types() {
        let other = again.type_id(&ty.name).expect("type kept");
        for f in &ty.fields {
            let name = &original.field(*f).name;
            let g = |s: &Supergraph, field| {
                let mut v: Vec<(String, bool)> = s
                    .field_subgraphs(field)
                    .into_iter()
                    .map(|p| (s.subgraph(p.graph).name.clone(), p.external))
                    .collect();
                v.sort();
                v
            };
            let theirs = g(&original, *f);
            let ours = g(&again, again.field_id(other, name).expect("field kept"));
            let resolvable = |v: &[(String, bool)]| {
                v.iter()
                    .filter(|(_, e)| !e)
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(resolvable(&ours), resolvable(&theirs), "{}.{name}", ty.name);
        }
        let keys = |s: &Supergraph, t| {
            let mut k: Vec<String> = s
                .type_def(t)
                .join_types
                .iter()
                .filter_map(|j| {
                    j.key
                        .clone()
                        .map(|key| format!("{} {key}", s.subgraph(j.graph).name))
                })
                .collect();
            k.sort();
            k
        };
        assert_eq!(keys(&again, other), keys(&original, id), "{} keys", ty.name);
    }
}

/// The lines of an SDL, sorted: equal for schemas that differ only in the order of
/// definitions and fields.
fn sorted_lines(sdl: &str) -> Vec<String> {
    let mut lines: Vec<String> = sdl
        .lines()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}
