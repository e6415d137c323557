// The Weft playground: GraphiQL 5 with the explorer and Weft's query-plan plugin, talking to
// the gateway it was served by (docs/playground.md). Before GraphiQL renders, two requests:
// the schema (introspection; the example operation is built from it) and whether the gateway
// exposes query plans (the plan plugin is shown only then).
import './workers.js';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { GraphiQL } from 'graphiql';
import { getIntrospectionQuery } from 'graphql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './weft.css';
import { exampleOperation } from './plan.js';
import { setLastRun } from './last-run.js';
import { planPlugin } from './plan-plugin.jsx';

// The GraphQL endpoint is the address this page was served from (`/` or `/graphql`).
const endpoint = new URL(window.location.pathname, window.location.origin).href;
const subscriptionUrl = endpoint.replace(/^http/, 'ws');

/** POST a GraphQL request to the endpoint; `{ status, json }` (json null if not JSON). */
async function post(body, headers = {}) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    // Not JSON (a proxy's error page?): the caller says what it got.
  }
  return { status: response.status, json };
}

/**
 * Does the gateway expose plans? `{ __typename }` with `weft-query-plan: dry-run`: a gateway
 * that exposes them answers with the plan and runs nothing; one that does not ignores the
 * header and answers `{ __typename }`, which is harmless.
 */
async function plansExposed() {
  try {
    const { json } = await post({ query: '{ __typename }' }, { 'weft-query-plan': 'dry-run' });
    return Boolean(json && json.extensions && json.extensions.queryPlan);
  } catch {
    return false;
  }
}

/** The schema, or why there is none (introspection off, an error). */
async function introspect() {
  try {
    const { status, json } = await post({ query: getIntrospectionQuery(), operationName: 'IntrospectionQuery' });
    if (json && json.data && json.data.__schema) return { schema: json.data };
    const message =
      (json && json.errors && json.errors.map((e) => e.message).join('\n')) || `HTTP ${status}`;
    return { error: message };
  } catch (e) {
    return { error: e.message };
  }
}

/**
 * The fetcher GraphiQL runs operations with: the toolkit's (HTTP, incremental delivery over
 * multipart, subscriptions over graphql-ws at the same address), on a `fetch` that asks for
 * the plan and fetch timings when plans are exposed (`weft-query-plan: include`) and hands
 * the answer's `extensions.fetchTimings` to the plan plugin.
 */
function makeFetcher(exposed) {
  const weftFetch = async (input, init = {}) => {
    let operation = null;
    try {
      operation = JSON.parse(init.body);
    } catch {
      // Not a JSON body: sent as it is.
    }
    const introspection = operation && operation.operationName === 'IntrospectionQuery';
    const headers = new Headers(init.headers);
    if (exposed && !introspection) headers.set('weft-query-plan', 'include');
    const response = await fetch(input, { ...init, headers });
    if (exposed && !introspection) {
      const type = response.headers.get('content-type') || '';
      if (type.includes('json')) {
        response
          .clone()
          .json()
          .then((json) => setLastRun({ operation, extensions: (json && json.extensions) || {} }))
          .catch(() => setLastRun(null));
      } else {
        setLastRun(null);
      }
    }
    return response;
  };
  return createGraphiQLFetcher({ url: endpoint, subscriptionUrl, fetch: weftFetch });
}

function IntrospectionOff({ message }) {
  return (
    <div className="weft-banner" role="status" data-weft="introspection-off">
      <strong>No schema:</strong> the gateway refused introspection ({message}). Operations
      still run; autocompletion, validation, the docs and the explorer need the schema (
      <code>introspection: true</code> in the gateway&apos;s configuration).
    </div>
  );
}

async function main() {
  const params = new URLSearchParams(window.location.search);
  const [exposed, { schema, error }] = await Promise.all([plansExposed(), introspect()]);
  const plugins = [explorerPlugin()];
  if (exposed) plugins.push(planPlugin({ endpoint }));
  const root = createRoot(document.getElementById('graphiql'));
  root.render(
    <StrictMode>
      {error ? <IntrospectionOff message={error} /> : null}
      <GraphiQL
        fetcher={makeFetcher(exposed)}
        // The schema fetched above; `null` (none) when introspection is off, so GraphiQL
        // does not ask again and put the same refusal in the response pane.
        schema={schema || null}
        plugins={plugins}
        visiblePlugin={params.get('plugin') === 'plan' && exposed ? plugins[1] : undefined}
        defaultQuery={schema ? exampleOperation(schema) : '{\n  __typename\n}\n'}
        initialQuery={params.get('query') || undefined}
        initialVariables={params.get('variables') || undefined}
        // Headers (bearer tokens…) stay in memory unless the user turns on saving them.
        shouldPersistHeaders={false}
        showPersistHeadersSettings
        className={error ? 'weft-with-banner' : undefined}
      >
        <GraphiQL.Logo>Weft</GraphiQL.Logo>
      </GraphiQL>
    </StrictMode>,
  );
  document.documentElement.dataset.weftReady = exposed ? 'plans' : 'no-plans';
}

main();
