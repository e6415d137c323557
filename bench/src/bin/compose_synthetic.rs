//! Composition at scale: a synthetic graph of 200 subgraphs and 5,000 types, composed several
//! times; prints the median time. Target (issue 3): under 2 s on the 2-core CI machine.
//!
//! `cargo run --release -p weft-bench --bin compose-synthetic [SUBGRAPHS] [TYPES_PER_SUBGRAPH]`

use std::fmt::Write;
use std::time::{Duration, Instant};

use weft_federation::compose::{SubgraphInput, compose};

/// Entities shared by every subgraph: each subgraph adds its own field to them.
const SHARED_ENTITIES: usize = 40;

fn subgraph(i: usize, types: usize) -> SubgraphInput {
    let mut sdl = String::from(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\", \"@shareable\", \"@external\", \"@requires\"])\n\n",
    );
    let _ = writeln!(sdl, "type Query {{");
    let _ = writeln!(sdl, "  root{i}(id: ID!, first: Int = 10): T{i}x0");
    let _ = writeln!(sdl, "  shared{i}: [Entity{}!]!", i % SHARED_ENTITIES);
    let _ = writeln!(sdl, "}}\n");
    // Own types: a chain, each referring to the next, plus an enum and an input every 10.
    for j in 0..types {
        if j % 10 == 9 {
            let _ = writeln!(sdl, "enum T{i}x{j} {{ A B C D }}\n");
            continue;
        }
        if j % 10 == 8 {
            let _ = writeln!(sdl, "input T{i}x{j} {{ a: Int! b: String c: [ID!] }}\n");
            continue;
        }
        let _ = writeln!(sdl, "\"\"\"Type {j} of subgraph {i}.\"\"\"");
        let _ = writeln!(sdl, "type T{i}x{j} @key(fields: \"id\") {{");
        let _ = writeln!(sdl, "  id: ID!");
        let _ = writeln!(sdl, "  name: String");
        let _ = writeln!(sdl, "  count(filter: String): Int!");
        let next = if j + 1 < types && (j + 1) % 10 < 8 {
            format!("T{i}x{}", j + 1)
        } else {
            format!("T{i}x0")
        };
        let _ = writeln!(sdl, "  next: {next}");
        let _ = writeln!(sdl, "  entity: Entity{}", (i + j) % SHARED_ENTITIES);
        let _ = writeln!(sdl, "}}\n");
    }
    for e in 0..SHARED_ENTITIES {
        let _ = writeln!(sdl, "type Entity{e} @key(fields: \"id\") {{");
        let _ = writeln!(sdl, "  id: ID!");
        let _ = writeln!(sdl, "  label: String @shareable");
        let _ = writeln!(sdl, "  fromSubgraph{i}: Int");
        let _ = writeln!(sdl, "}}\n");
    }
    SubgraphInput {
        name: format!("subgraph{i:03}"),
        url: format!("http://subgraph{i}:4000/graphql"),
        sdl,
        source: format!("subgraph{i}.graphql"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let subgraphs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let per: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(25);
    let inputs: Vec<SubgraphInput> = (0..subgraphs).map(|i| subgraph(i, per)).collect();
    let sdl_bytes: usize = inputs.iter().map(|s| s.sdl.len()).sum();
    println!(
        "{subgraphs} subgraphs, {} own types + {SHARED_ENTITIES} shared entities, {:.1} MB of SDL",
        subgraphs * per,
        sdl_bytes as f64 / 1e6
    );
    let mut times: Vec<Duration> = Vec::new();
    let mut size = 0;
    for _ in 0..5 {
        let start = Instant::now();
        match compose(&inputs) {
            Ok(composed) => size = composed.supergraph_sdl.len(),
            Err(e) => {
                eprintln!("composition failed: {e}");
                std::process::exit(1);
            }
        }
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "compose: median {:.3} s, min {:.3} s, max {:.3} s over {} runs; supergraph {:.1} MB",
        times[times.len() / 2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[times.len() - 1].as_secs_f64(),
        times.len(),
        size as f64 / 1e6
    );
}
