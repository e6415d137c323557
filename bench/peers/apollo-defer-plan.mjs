// Apollo's plans for operations with @defer and @skip/@include, printed as Apollo prints them, for
// comparing by hand with Weft's plan snapshots (gateway/federation/tests/fixtures/planner-apollo/).
// Install the packages first: npm install --prefix bench/peers
// Usage: node bench/peers/apollo-defer-plan.mjs SUPERGRAPH 'query' ...
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph, operationFromDocument } from "@apollo/federation-internals";
import { QueryPlanner, prettyFormatQueryPlan } from "@apollo/query-planner";
const [path, ...queries] = process.argv.slice(2);
const supergraph = Supergraph.build(readFileSync(path, "utf8"), { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
const api = supergraph.apiSchema();
const planner = new QueryPlanner(supergraph, { incrementalDelivery: { enableDefer: true } });
for (const q of queries) {
  try {
    const op = operationFromDocument(api, parse(q), { validate: true });
    const plan = planner.buildQueryPlan(op);
    console.log(q + "\n\n" + prettyFormatQueryPlan(plan) + "\n----");
  } catch (e) {
    console.log(q + "\n\nERROR " + e.message + "\n----");
  }
}
