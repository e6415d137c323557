// Weft's query-plan plugin for GraphiQL (docs/playground.md): the plan of the operation in the
// editor, as a tree and as text, asked for with `weft-query-plan: dry-run` (nothing runs) a
// moment after each edit; after a run, each fetch's subgraph and time from the answer's
// `extensions.fetchTimings`; and the request as a curl command.
import {
  useGraphiQL,
  useHeadersEditorState,
  useOperationsEditorState,
  useVariablesEditorState,
  tryParseJSONC,
} from '@graphiql/react';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { children, curlCommand, fetches, sameDocument, subgraphs, timingFor } from './plan.js';
import { getLastRun, subscribe } from './last-run.js';

/** How long the editor must be still before the plan is asked for again. */
const DEBOUNCE_MS = 400;

function PlanIcon() {
  return (
    <svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.5">
      <rect x="9" y="2.5" width="6" height="4" rx="1" />
      <rect x="2.5" y="17.5" width="6" height="4" rx="1" />
      <rect x="15.5" y="17.5" width="6" height="4" rx="1" />
      <path d="M12 6.5v5M5.5 17.5v-3h13v3M12 11.5v3" />
    </svg>
  );
}

/** The request the editors describe: `{ body, headers }`, or `{ error }`. */
function request(query, variables, headers, operationName) {
  let vars;
  let heads;
  try {
    vars = tryParseJSONC(variables);
  } catch (e) {
    return { error: `Variables ${e.message}` };
  }
  try {
    heads = tryParseJSONC(headers);
  } catch (e) {
    return { error: `Headers ${e.message}` };
  }
  const body = { query };
  if (vars) body.variables = vars;
  if (operationName) body.operationName = operationName;
  return { body, headers: heads || {} };
}

/** Asks the gateway for the plan of `req` without running it. */
async function fetchPlan(endpoint, req, signal) {
  const response = await fetch(endpoint, {
    method: 'POST',
    signal,
    headers: {
      ...req.headers,
      'content-type': 'application/json',
      accept: 'application/json',
      'weft-query-plan': 'dry-run',
    },
    body: JSON.stringify(req.body),
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    return { error: `HTTP ${response.status}: the answer is not JSON.` };
  }
  const plan = json && json.extensions && json.extensions.queryPlan;
  if (plan) return { plan };
  const errors = (json && json.errors) || [];
  return {
    error: errors.length
      ? `No plan: ${errors.map((e) => e.message).join('\n')}`
      : `No plan in the answer (HTTP ${response.status}).`,
  };
}

function usePlan(endpoint) {
  const [query] = useOperationsEditorState();
  const [variables] = useVariablesEditorState();
  const [headers] = useHeadersEditorState();
  const operationName = useGraphiQL((s) => s.operationName);
  const [state, setState] = useState({ status: 'empty' });
  useEffect(() => {
    if (!query || !query.trim()) {
      setState({ status: 'empty' });
      return undefined;
    }
    const req = request(query, variables, headers, operationName);
    if (req.error) {
      setState({ status: 'error', error: req.error });
      return undefined;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      setState((s) => ({ ...s, status: 'loading' }));
      fetchPlan(endpoint, req, abort.signal)
        .then((r) => setState(r.plan ? { status: 'done', plan: r.plan } : { status: 'error', error: r.error }))
        .catch((e) => {
          if (e.name !== 'AbortError') setState({ status: 'error', error: `The request failed: ${e.message}` });
        });
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [endpoint, query, variables, headers, operationName]);
  return { state, req: request(query, variables, headers, operationName) };
}

function ms(value) {
  return `${Number(value).toFixed(1)} ms`;
}

function FetchNode({ fetch, timing }) {
  const [open, setOpen] = useState(false);
  const { node } = fetch;
  return (
    <li
      className="weft-plan-node weft-plan-fetch"
      data-kind={node.kind}
      data-subgraph={node.serviceName}
      data-path={fetch.path}
    >
      <button type="button" className="weft-plan-fetch-head" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span className="weft-plan-kind">{node.kind}</span>
        <span className="weft-plan-subgraph">{node.serviceName}</span>
        {timing ? (
          <span className="weft-plan-time" data-weft="fetch-time">
            {ms(timing.durationMs)}
          </span>
        ) : null}
      </button>
      {open ? <pre className="weft-plan-operation">{node.operation}</pre> : null}
    </li>
  );
}

function Tree({ node, lookup }) {
  if (!node) return null;
  if (node.kind === 'Fetch' || node.kind === 'BatchFetch') {
    const fetch = lookup.next(node);
    return <FetchNode fetch={fetch} timing={fetch.timing} />;
  }
  const label =
    node.kind === 'Flatten'
      ? `Flatten ${(node.path || []).join('.')}`
      : node.kind === 'Condition'
        ? `Condition if $${node.condition}`
        : node.kind;
  return (
    <li className="weft-plan-node" data-kind={node.kind}>
      <span className="weft-plan-kind">{label}</span>
      <ul>
        {children(node).map((child, i) => (
          <Tree key={i} node={child} lookup={lookup} />
        ))}
      </ul>
    </li>
  );
}

/** The plan's fetches in plan order, each with its timing from the last run (if it ran). */
function fetchLookup(plan, timings) {
  const all = fetches(plan);
  const taken = new Set();
  for (const f of all) f.timing = timingFor(timings, f, taken);
  let i = 0;
  return { next: () => all[i++] };
}

function Timings({ run }) {
  const timings = run && run.extensions && run.extensions.fetchTimings;
  if (!Array.isArray(timings)) return null;
  return (
    <section className="weft-plan-timings" data-weft="timings">
      <h3>Last run</h3>
      {timings.length === 0 ? (
        <p>No subgraph was asked (nothing to fetch, or every answer came from the cache).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Subgraph</th>
              <th>Path</th>
              <th>Start</th>
              <th>Time</th>
            </tr>
          </thead>
          <tbody>
            {timings.map((t, i) => (
              <tr key={i}>
                <td>{t.subgraph}</td>
                <td>{t.path || '(root)'}</td>
                <td>{ms(t.startMs)}</td>
                <td>{ms(t.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CopyAsCurl({ endpoint, req }) {
  const [copied, setCopied] = useState(null);
  const copy = () => {
    if (req.error) {
      setCopied({ error: req.error });
      return;
    }
    const command = curlCommand(endpoint, req.headers, req.body);
    const done = () => setCopied({ command, ok: true });
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(command).then(done, () => setCopied({ command, ok: false }));
    } else {
      setCopied({ command, ok: false });
    }
  };
  return (
    <div className="weft-plan-curl">
      <button type="button" className="graphiql-button" onClick={copy} data-weft="copy-curl">
        Copy as curl
      </button>
      {copied && copied.error ? <p className="weft-plan-error">{copied.error}</p> : null}
      {copied && copied.command ? (
        <>
          <p>{copied.ok ? 'Copied:' : 'The clipboard is not available; copy it from here:'}</p>
          <pre className="weft-plan-operation" data-weft="curl">
            {copied.command}
          </pre>
        </>
      ) : null}
    </div>
  );
}

function PlanContent({ endpoint }) {
  const { state, req } = usePlan(endpoint);
  const [view, setView] = useState('tree');
  const run = useSyncExternalStore(subscribe, getLastRun);
  // Timings belong to the operation that ran: shown on the tree only while it is the same
  // document (reformatting it does not change it).
  const sameOperation = run && run.operation && req.body && sameDocument(run.operation.query, req.body.query);
  const timings = sameOperation ? run.extensions.fetchTimings : undefined;
  const plan = state.plan;
  return (
    <div className="weft-plan" data-weft-plan-state={state.status}>
      <div className="graphiql-doc-explorer-title">Query plan</div>
      <div className="weft-plan-bar">
        <button type="button" className="graphiql-button" aria-pressed={view === 'tree'} onClick={() => setView('tree')}>
          Tree
        </button>
        <button type="button" className="graphiql-button" aria-pressed={view === 'text'} onClick={() => setView('text')}>
          Text
        </button>
        <span className="weft-plan-status">{state.status === 'loading' ? 'Planning…' : ''}</span>
      </div>
      {state.status === 'empty' ? <p>Write an operation to see its plan.</p> : null}
      {state.error ? <pre className="weft-plan-error">{state.error}</pre> : null}
      {plan && plan.object ? (
        <>
          <p className="weft-plan-summary" data-weft="subgraphs">
            {fetches(plan.object).length} fetch(es) from {subgraphs(plan.object).join(', ') || 'no subgraph'}
          </p>
          {view === 'tree' ? (
            <ul className="weft-plan-tree" data-weft="plan-tree">
              {plan.object.node ? (
                <Tree node={plan.object.node} lookup={fetchLookup(plan.object, timings)} />
              ) : (
                <li>Nothing to fetch (the operation is answered by the gateway alone).</li>
              )}
            </ul>
          ) : (
            <pre className="weft-plan-text" data-weft="plan-text">
              {plan.text}
            </pre>
          )}
        </>
      ) : null}
      {sameOperation ? <Timings run={run} /> : null}
      <CopyAsCurl endpoint={endpoint} req={req} />
    </div>
  );
}

/** The plugin, for GraphiQL's `plugins` prop. */
export function planPlugin({ endpoint }) {
  return {
    title: 'Query plan',
    icon: PlanIcon,
    content: () => <PlanContent endpoint={endpoint} />,
  };
}
