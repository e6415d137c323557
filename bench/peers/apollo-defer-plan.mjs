// Apollo's plans for operations with @defer and @skip/@include, printed as Apollo prints them, for
// comparing by hand with Weft's plan snapshots (gateway/federation/tests/fixtures/planner-apollo/).
// Install the packages first: npm install --prefix bench/peers
// Usage: node bench/peers/apollo-defer-plan.mjs SUPERGRAPH 'query' ...
//        node bench/peers/apollo-defer-plan.mjs SUPERGRAPH --file OPERATIONS.graphql
// With --file, each named operation of the document is planned in turn and printed with the
// paragraph just before it (its comment). prettyFormatQueryPlan does not print a fetch's contextRewrites
// (@fromContext), so after each plan the fetches that have some are listed, numbered in the
// order the plan prints its fetches, with the path of their Flatten and JSON of the rewrites.
import { readFileSync } from "node:fs";
import { Kind, parse } from "graphql";
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph, operationFromDocument } from "@apollo/federation-internals";
import { QueryPlanner, prettyFormatQueryPlan } from "@apollo/query-planner";
const [path, ...args] = process.argv.slice(2);
const supergraph = Supergraph.build(readFileSync(path, "utf8"), { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
const api = supergraph.apiSchema();
const planner = new QueryPlanner(supergraph, { incrementalDelivery: { enableDefer: true } });

// [text to print, document, operation name] per operation to plan.
function operations() {
  if (args[0] !== "--file") return args.map((q) => [q, parse(q), undefined]);
  const source = readFileSync(args[1], "utf8");
  const document = parse(source);
  let from = 0;
  return document.definitions
    .filter((d) => d.kind === Kind.OPERATION_DEFINITION)
    .map((d) => {
      const before = source.slice(from, d.loc.start); // keep only its last paragraph
      const text = (before.slice(before.lastIndexOf("\n\n") + 1) + source.slice(d.loc.start, d.loc.end)).trim();
      from = d.loc.end;
      return [text, document, d.name && d.name.value];
    });
}

// The fetches of a plan in print order, each with the path of its enclosing Flatten.
function fetches(node, at, out) {
  if (!node) return out;
  switch (node.kind) {
    case "Fetch":
      out.push({ fetch: node, at });
      break;
    case "Flatten":
      fetches(node.node, node.path.join("."), out);
      break;
    case "Sequence":
    case "Parallel":
      node.nodes.forEach((n) => fetches(n, at, out));
      break;
    case "Condition":
      fetches(node.ifClause, at, out);
      fetches(node.elseClause, at, out);
      break;
    case "Defer":
      fetches(node.primary && node.primary.node, at, out);
      (node.deferred || []).forEach((d) => fetches(d.node, at, out));
      break;
    case "Subscription":
      fetches(node.primary, at, out);
      fetches(node.rest, at, out);
      break;
  }
  return out;
}

function rewrites(plan) {
  const lines = [];
  fetches(plan.node, "", []).forEach(({ fetch, at }, i) => {
    if (fetch.contextRewrites && fetch.contextRewrites.length > 0) {
      lines.push(`contextRewrites of fetch ${i + 1} (service "${fetch.serviceName}", at "${at}"):`);
      lines.push(`  ${JSON.stringify(fetch.contextRewrites)}`);
    }
  });
  return lines.length > 0 ? "\n" + lines.join("\n") : "";
}

for (const [text, document, operationName] of operations()) {
  try {
    const op = operationFromDocument(api, document, { validate: true, operationName });
    const plan = planner.buildQueryPlan(op);
    console.log(text + "\n\n" + prettyFormatQueryPlan(plan) + rewrites(plan) + "\n----");
  } catch (e) {
    console.log(text + "\n\nERROR " + e.message + "\n----");
  }
}
