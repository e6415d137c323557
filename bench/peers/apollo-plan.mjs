// Apollo's query planner for plan-compare (bench/src/bin/plan_compare): reads one JSON object
// per line on stdin and writes one per line on stdout, in order. Install its packages first:
//   npm install --prefix bench/peers
//
// In:  {"supergraph": "/path/supergraph.graphql", "operation": "query { ... }",
//       "labels": ["percent(50)"], "reps": 5}
// Out: {"fetches": n, "fetchesAllBranches": n, "bySubgraph": {"name": n}, "timesMs": [..],
//       "plan": "QueryPlan { ... }"}
//   or {"error": "...", "stage": "supergraph" | "validate" | "plan"}
//
// The Supergraph and its QueryPlanner are built once per supergraph path and kept while the
// lines go on naming it (plan-compare sends each supergraph's operations together), so only
// planning is timed, as in a gateway's plan-cache miss: operationFromDocument and
// buildQueryPlan on a validated document, once untimed (the JIT warms up), then "reps" times
// (once only when the untimed run took a second or more), as plan-compare times Weft.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { parse, validate } from "graphql";
import {
  ROUTER_SUPPORTED_SUPERGRAPH_FEATURES,
  Supergraph,
  operationFromDocument,
} from "@apollo/federation-internals";
import { QueryPlanner, prettyFormatQueryPlan } from "@apollo/query-planner";

let current = null; // { path, apiSchema, jsSchema, planner } or { path, error }

function load(path) {
  if (current && current.path === path) return current;
  try {
    // The features Apollo Router accepts (authenticated, requiresScopes, policy, ...): the
    // gateway's default set refuses supergraphs that link them "for: SECURITY".
    const supergraph = Supergraph.build(readFileSync(path, "utf8"), {
      supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES,
    });
    const apiSchema = supergraph.apiSchema();
    current = {
      path,
      apiSchema,
      jsSchema: apiSchema.toGraphQLJSSchema(),
      planner: new QueryPlanner(supergraph),
    };
  } catch (e) {
    current = { path, error: String(e && e.message ? e.message : e) };
  }
  return current;
}

// The fetches one request can send at most: a Condition counts its larger branch (the same
// rule plan-compare applies to Weft's plans; docs/decisions.md, "Plan comparison").
function fetches(node, allBranches) {
  if (!node) return 0;
  switch (node.kind) {
    case "Fetch":
      return 1;
    case "Flatten":
      return fetches(node.node, allBranches);
    case "Sequence":
    case "Parallel":
      return node.nodes.reduce((n, c) => n + fetches(c, allBranches), 0);
    case "Condition": {
      const a = fetches(node.ifClause, allBranches);
      const b = fetches(node.elseClause, allBranches);
      return allBranches ? a + b : Math.max(a, b);
    }
    case "Defer":
      return (
        fetches(node.primary && node.primary.node, allBranches) +
        (node.deferred || []).reduce((n, d) => n + fetches(d.node, allBranches), 0)
      );
    case "Subscription":
      return fetches(node.primary, allBranches) + fetches(node.rest, allBranches);
    default:
      throw new Error(`unknown plan node kind ${node.kind}`);
  }
}

function bySubgraph(node, into) {
  if (!node) return into;
  switch (node.kind) {
    case "Fetch":
      into[node.serviceName] = (into[node.serviceName] || 0) + 1;
      break;
    case "Flatten":
      bySubgraph(node.node, into);
      break;
    case "Sequence":
    case "Parallel":
      node.nodes.forEach((c) => bySubgraph(c, into));
      break;
    case "Condition":
      bySubgraph(node.ifClause, into);
      bySubgraph(node.elseClause, into);
      break;
    case "Defer":
      bySubgraph(node.primary && node.primary.node, into);
      (node.deferred || []).forEach((d) => bySubgraph(d.node, into));
      break;
    case "Subscription":
      bySubgraph(node.primary, into);
      bySubgraph(node.rest, into);
      break;
  }
  return into;
}

const SLOW_MS = 1000;

function answer(request) {
  const sg = load(request.supergraph);
  if (sg.error) return { error: sg.error, stage: "supergraph" };
  let document;
  try {
    document = parse(request.operation);
  } catch (e) {
    return { error: String(e.message), stage: "validate" };
  }
  const errors = validate(sg.jsSchema, document);
  if (errors.length > 0) {
    return { error: errors.map((e) => e.message).join("; "), stage: "validate" };
  }
  const overrideConditions = new Map((request.labels || []).map((l) => [l, true]));
  const reps = Math.max(1, request.reps || 1);
  const once = () => {
    const start = performance.now();
    const operation = operationFromDocument(sg.apiSchema, document, {});
    const plan = sg.planner.buildQueryPlan(operation, { overrideConditions });
    return [plan, performance.now() - start];
  };
  let plan;
  let timesMs = [];
  try {
    const [first, warmUpMs] = once();
    plan = first;
    if (warmUpMs >= SLOW_MS) {
      timesMs = [warmUpMs];
    } else {
      for (let i = 0; i < reps; i++) {
        const [p, ms] = once();
        plan = p;
        timesMs.push(ms);
      }
    }
  } catch (e) {
    return { error: String(e && e.message ? e.message : e), stage: "plan" };
  }
  return {
    fetches: fetches(plan.node, false),
    fetchesAllBranches: fetches(plan.node, true),
    bySubgraph: bySubgraph(plan.node, {}),
    timesMs,
    plan: prettyFormatQueryPlan(plan),
  };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (line.trim() === "") continue;
  let out;
  try {
    out = answer(JSON.parse(line));
  } catch (e) {
    out = { error: String(e && e.message ? e.message : e), stage: "input" };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
