// Apollo's plans for one operation with progressive-override labels off, then on, printed as Apollo
// prints them, to compare by hand with Weft's snapshot (gateway/federation/tests/fixtures/planner-apollo/).
// The cacheTag link (for: EXECUTION, which Apollo's planner refuses) is dropped first.
// Usage: node bench/peers/apollo-labels-plan.mjs SUPERGRAPH 'query' LABEL...
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { Supergraph, operationFromDocument, ROUTER_SUPPORTED_SUPERGRAPH_FEATURES } from "@apollo/federation-internals";
import { QueryPlanner, prettyFormatQueryPlan } from "@apollo/query-planner";
const [path, q, ...labels] = process.argv.slice(2);
const supergraph = Supergraph.build(readFileSync(path, "utf8").split("\n").filter(l => !l.includes("cacheTag/v0.1")).join("\n"), { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
const api = supergraph.apiSchema();
const planner = new QueryPlanner(supergraph);
const op = operationFromDocument(api, parse(q), { validate: true });
for (const on of [[], labels]) {
  const overrideConditions = new Map(labels.map(l => [l, on.includes(l)]));
  const plan = planner.buildQueryPlan(op, { overrideConditions });
  console.log(q + " with labels " + JSON.stringify(on) + "\n\n" + prettyFormatQueryPlan(plan) + "\n----");
}
