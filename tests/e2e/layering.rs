#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test: failing loudly is the point
//! The gateway crates' dependencies point one way (issue 14, docs/DESIGN.md):
//!
//! ```text
//! weft (server) -> weft-executor, weft-config, weft-federation
//! weft-executor -> weft-federation, weft-config
//! weft-config, weft-federation -> nothing in the workspace
//! ```
//!
//! Read from `cargo metadata`, so a new arrow fails `cargo test --workspace` (and `.ci/run`).
//! The binary may also depend on the reference subgraph crates, for `weft demo`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

/// Each gateway crate and the workspace crates it may depend on (normal and build
/// dependencies), exactly.
const ARROWS: &[(&str, &[&str])] = &[
    ("weft-federation", &[]),
    ("weft-config", &[]),
    ("weft-executor", &["weft-config", "weft-federation"]),
    ("weft", &["weft-config", "weft-executor", "weft-federation"]),
];

/// The layer of each gateway crate: a dev-dependency (tests) may point down or sideways
/// into the reference subgraphs, never up.
const LAYER: &[(&str, u8)] = &[
    ("weft-federation", 0),
    ("weft-config", 0),
    ("weft-executor", 1),
    ("weft", 2),
];

fn metadata() -> Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn gateway_crates_depend_one_way() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let workspace: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let subgraph_crates: BTreeSet<&str> = packages
        .iter()
        .filter(|p| {
            p["manifest_path"]
                .as_str()
                .is_some_and(|m| m.contains("/subgraphs/"))
        })
        .filter_map(|p| p["name"].as_str())
        .collect();
    let layer: BTreeMap<&str, u8> = LAYER.iter().copied().collect();
    let mut found: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut problems = Vec::new();
    for p in packages {
        let name = p["name"].as_str().expect("name");
        let Some(&own_layer) = layer.get(name) else {
            continue;
        };
        let arrows = found.entry(name).or_default();
        for d in p["dependencies"].as_array().expect("dependencies") {
            let dep = d["name"].as_str().expect("dependency name");
            if !workspace.contains(dep) {
                continue;
            }
            let dev = d["kind"].as_str() == Some("dev");
            match (dev, layer.get(dep)) {
                (false, Some(_)) => {
                    arrows.insert(dep);
                }
                (false, None) if name == "weft" && subgraph_crates.contains(dep) => {}
                (false, None) => problems.push(format!("{name} depends on {dep}")),
                (true, Some(&l)) if l > own_layer => {
                    problems.push(format!("{name}'s tests depend on {dep}, a layer above"))
                }
                (true, _) => {}
            }
        }
    }
    for (name, allowed) in ARROWS {
        let want: BTreeSet<&str> = allowed.iter().copied().collect();
        let have = found.get(name).cloned().unwrap_or_default();
        if have != want {
            problems.push(format!(
                "{name} depends on {have:?} among the gateway crates; the layering says {want:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "dependency arrows (docs/DESIGN.md):\n{}",
        problems.join("\n")
    );
}
