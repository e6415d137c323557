// Pure helpers of the playground (no DOM, no React): the query plan as a tree, fetch timings
// matched to the plan's fetches, "Copy as curl", and the example operation built from the
// schema. Kept apart so each is a plain function of its input.

import { stripIgnoredCharacters } from 'graphql';

/**
 * Whether two operation texts are the same document: whitespace, commas and comments do not
 * count (prettifying an operation does not make its last run's timings another's). Text that
 * does not lex is compared as it is.
 */
export function sameDocument(a, b) {
  if (a === b) return true;
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  try {
    return stripIgnoredCharacters(a) === stripIgnoredCharacters(b);
  } catch {
    return false;
  }
}

/** The children of a plan node (`extensions.queryPlan.object`, Apollo's node shapes). */
export function children(node) {
  switch (node && node.kind) {
    case 'Sequence':
    case 'Parallel':
      return node.nodes || [];
    case 'Flatten':
      return node.node ? [node.node] : [];
    case 'Condition':
      return [node.ifClause, node.elseClause].filter(Boolean);
    default:
      return [];
  }
}

/**
 * Every fetch of a plan, in plan order, with the flatten path it runs at (`a.@.b`, as
 * `extensions.fetchTimings` names it): `{ kind, serviceName, operation, path, node }`.
 */
export function fetches(plan) {
  const out = [];
  const walk = (node, path) => {
    if (!node) return;
    if (node.kind === 'Fetch' || node.kind === 'BatchFetch') {
      out.push({ kind: node.kind, serviceName: node.serviceName, operation: node.operation, path, node });
      return;
    }
    if (node.kind === 'Flatten') {
      walk(node.node, (node.path || []).join('.'));
      return;
    }
    for (const child of children(node)) walk(child, path);
  };
  walk(plan && plan.node, '');
  return out;
}

/** The subgraphs a plan fetches from, each once, in plan order. */
export function subgraphs(plan) {
  return [...new Set(fetches(plan).map((f) => f.serviceName))];
}

/**
 * The timing (`extensions.fetchTimings` entry) of a fetch of the plan: the first one not yet
 * taken with the same subgraph and path (a plan may fetch from one subgraph at one path
 * twice; they run in plan order). `taken` is a Set shared across one render.
 */
export function timingFor(timings, fetch, taken) {
  if (!Array.isArray(timings)) return undefined;
  const i = timings.findIndex(
    (t, j) => !taken.has(j) && t.subgraph === fetch.serviceName && (t.path || '') === fetch.path,
  );
  if (i < 0) return undefined;
  taken.add(i);
  return timings[i];
}

/** `value` quoted for a POSIX shell (single quotes; a single quote becomes '\''). */
export function shellQuote(value) {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/**
 * The request as a curl command: POST of the JSON body with the editor's headers (a header
 * editor that is not a JSON object is reported by the caller before this is called).
 */
export function curlCommand(url, headers, body) {
  const lines = [`curl ${shellQuote(url)}`, `-H ${shellQuote('content-type: application/json')}`];
  for (const [name, value] of Object.entries(headers || {})) {
    if (name.toLowerCase() === 'content-type') continue;
    lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  }
  lines.push(`--data-raw ${shellQuote(JSON.stringify(body))}`);
  return lines.join(' \\\n  ');
}

// ---- the example operation ----

const unwrap = (ref) => {
  let t = ref;
  while (t && (t.kind === 'NON_NULL' || t.kind === 'LIST')) t = t.ofType;
  return t;
};
const required = (field) =>
  (field.args || []).some((a) => a.type && a.type.kind === 'NON_NULL' && a.defaultValue == null);
const leaf = (kind) => kind === 'SCALAR' || kind === 'ENUM';

/**
 * An operation over the first fields of the query type that need no argument (at most
 * `max`), each object field with its first leaf fields; from an introspection result
 * (`{ __schema }`). `{ __typename }` when there is nothing to show.
 */
export function exampleOperation(introspection, max = 3) {
  const schema = introspection && introspection.__schema;
  const byName = new Map(((schema && schema.types) || []).map((t) => [t.name, t]));
  const query = schema && schema.queryType && byName.get(schema.queryType.name);
  const selection = (type, depth) => {
    const picked = [];
    for (const field of (type && type.fields) || []) {
      if (picked.length >= max) break;
      if (field.name.startsWith('__') || required(field) || field.isDeprecated) continue;
      const target = byName.get((unwrap(field.type) || {}).name);
      if (!target) continue;
      if (leaf(target.kind)) {
        picked.push(field.name);
      } else if (depth > 0 && (target.kind === 'OBJECT' || target.kind === 'INTERFACE')) {
        const inner = selection(target, depth - 1);
        if (inner.length) picked.push(`${field.name} {\n${indent(inner)}\n}`);
      }
    }
    return picked;
  };
  // Object fields show more of the schema than scalars; the scalars when there are none.
  const all = selection(query, 2);
  const objects = all.filter((f) => f.includes('{'));
  const fields = objects.length ? objects : all;
  if (!fields.length) return '{\n  __typename\n}\n';
  return `query Example {\n${indent(fields)}\n}\n`;
}

const indent = (lines) =>
  lines
    .join('\n')
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
