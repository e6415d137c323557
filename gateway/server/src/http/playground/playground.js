// The Weft playground: an operation editor, variables and headers, the result, the query
// plan, history and schema docs. Plain JavaScript, no dependencies, nothing fetched but the
// gateway itself (docs/playground.md). Every text is set with textContent, never as markup.
(function () {
  'use strict';

  // The GraphQL endpoint is the address this page was served from (`/` or `/graphql`).
  var ENDPOINT = window.location.pathname;
  var HISTORY_KEY = 'weft-playground-history';
  var SESSION_KEY = 'weft-playground-session';
  var HISTORY_MAX = 30;
  var DEFAULT_QUERY = '# Ctrl+Enter (Cmd+Enter) runs the operation.\n' +
    '{\n  topProducts(first: 2) {\n    upc\n    name\n  }\n}\n';

  var INTROSPECTION = 'query IntrospectionQuery { __schema { ' +
    'queryType { name } mutationType { name } subscriptionType { name } ' +
    'types { ...FullType } directives { name description locations args { ...InputValue } } } } ' +
    'fragment FullType on __Type { kind name description ' +
    'fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } ' +
    'inputFields { ...InputValue } interfaces { ...TypeRef } ' +
    'enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } ' +
    'possibleTypes { ...TypeRef } } ' +
    'fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } ' +
    'fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ' +
    'ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }';

  var el = {};
  // null: not known yet; then true or false.
  var plansExposed = null;
  var schemaTypes = {};
  var rootNames = [];
  var docsTrail = [];

  function $(id) { return document.getElementById(id); }

  function node(tag, className, text) {
    var n = document.createElement(tag);
    if (className) { n.className = className; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }

  function pretty(value) { return JSON.stringify(value, null, 2); }

  function show(pane, state, text) {
    pane.textContent = text;
    pane.setAttribute('data-state', state);
  }

  // ---- storage (may be unavailable: private windows, disabled storage) ----
  function load(key, fallback) {
    try {
      var raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) {
      return fallback;
    }
  }

  function store(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* no storage */ }
  }

  // ---- requests ----
  // A JSON object from an editor, or null when it is empty. Throws a readable Error.
  function parseObject(text, what) {
    if (!text.trim()) { return null; }
    var value;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new Error(what + ' are not valid JSON: ' + e.message);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(what + ' must be a JSON object.');
    }
    return value;
  }

  // POST one GraphQL request. Always `Content-Type: application/json`, which also gets it
  // through CSRF prevention. Resolves to { status, json, text, ms }.
  function post(body, extraHeaders) {
    var headers = new Headers();
    try {
      var custom = parseObject(el.headers.value, 'Headers') || {};
      Object.keys(custom).forEach(function (name) { headers.set(name, String(custom[name])); });
    } catch (e) {
      return Promise.reject(e);
    }
    Object.keys(extraHeaders || {}).forEach(function (name) { headers.set(name, extraHeaders[name]); });
    headers.set('Content-Type', 'application/json');
    headers.set('Accept', 'application/graphql-response+json, application/json;q=0.9');
    var started = performance.now();
    return fetch(ENDPOINT, {
      method: 'POST',
      headers: headers,
      body: JSON.stringify(body),
      credentials: 'same-origin'
    }).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { json = null; }
        return { status: response.status, json: json, text: text, ms: Math.round(performance.now() - started) };
      });
    });
  }

  // The operation to run: with several named operations, the one the cursor is in.
  function operationName(query, cursor) {
    var re = /(^|[^\w])(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/g;
    var found = [];
    var m;
    while ((m = re.exec(query)) !== null) {
      found.push({ at: m.index, name: m[3] });
    }
    if (found.length < 2) { return null; }
    var pick = found[0];
    found.forEach(function (op) { if (op.at <= cursor) { pick = op; } });
    return pick.name;
  }

  function currentRequest() {
    var query = el.query.value;
    var body = { query: query };
    var variables = parseObject(el.variables.value, 'Variables');
    if (variables) { body.variables = variables; }
    var name = operationName(query, el.query.selectionStart || 0);
    if (name) { body.operationName = name; }
    return body;
  }

  function run() {
    var body;
    try {
      body = currentRequest();
      parseObject(el.headers.value, 'Headers');
    } catch (e) {
      show(el.result, 'error', e.message);
      show(el.plan, 'error', e.message);
      return Promise.resolve();
    }
    saveSession();
    addHistory();
    show(el.result, 'loading', 'Running…');
    el.status.textContent = '';
    var execute = post(body).then(function (r) {
      el.status.textContent = 'HTTP ' + r.status + ' · ' + r.ms + ' ms';
      show(el.result, 'done', r.json !== null ? pretty(r.json) : r.text);
    }, function (e) {
      show(el.result, 'error', 'The request failed: ' + e.message);
    });
    return Promise.all([execute, plan(body)]);
  }

  // The plan of the operation, with `weft-query-plan: dry-run` (nothing executes). Only sent
  // once the gateway is known to expose plans: a gateway that does not ignores the header
  // and would execute the operation a second time.
  function plan(body) {
    if (!body) {
      try { body = currentRequest(); } catch (e) { show(el.plan, 'error', e.message); return Promise.resolve(); }
    }
    if (plansExposed === null) {
      return probePlans().then(function () { return plansExposed === null ? undefined : plan(body); });
    }
    if (plansExposed === false) {
      show(el.plan, 'unavailable', 'This gateway does not expose query plans. Start it with ' +
        '`weft serve --expose-query-plans` (or set `query_plan.expose: true`); `weft demo` does.');
      return Promise.resolve();
    }
    show(el.plan, 'loading', 'Planning…');
    return post(body, { 'weft-query-plan': 'dry-run' }).then(function (r) {
      var qp = r.json && r.json.extensions && r.json.extensions.queryPlan;
      if (qp && typeof qp.text === 'string') {
        show(el.plan, 'done', qp.text);
      } else if (r.json && r.json.errors) {
        show(el.plan, 'error', 'No plan: the operation has errors.\n\n' + pretty(r.json.errors));
      } else {
        show(el.plan, 'unavailable', 'The gateway sent no plan.');
      }
    }, function (e) {
      show(el.plan, 'error', 'The request failed: ' + e.message);
    });
  }

  // Does the gateway expose plans? Asked with `{ __typename }`, harmless if it runs.
  function probePlans() {
    return post({ query: '{ __typename }' }, { 'weft-query-plan': 'dry-run' }).then(function (r) {
      if (r.json && r.json.extensions && r.json.extensions.queryPlan) {
        plansExposed = true;
      } else if (r.json && r.json.data) {
        plansExposed = false; // it ran: the header was ignored
      } else {
        plansExposed = null; // refused (authorization?): unknown, asked again later
        show(el.plan, 'error', 'Could not ask for a plan: HTTP ' + r.status + '\n' + r.text);
      }
    }, function (e) {
      plansExposed = null; // unknown: asked again before the next plan
      show(el.plan, 'error', 'The request failed: ' + e.message);
    });
  }

  // ---- session and history ----
  function saveSession() {
    store(SESSION_KEY, { query: el.query.value, variables: el.variables.value, headers: el.headers.value });
  }

  function addHistory() {
    var entry = { query: el.query.value, variables: el.variables.value, headers: el.headers.value, at: Date.now() };
    var list = load(HISTORY_KEY, []).filter(function (h) {
      return !(h && h.query === entry.query && h.variables === entry.variables && h.headers === entry.headers);
    });
    list.unshift(entry);
    store(HISTORY_KEY, list.slice(0, HISTORY_MAX));
    renderHistory();
  }

  function renderHistory() {
    var list = load(HISTORY_KEY, []);
    el.history.textContent = '';
    if (!Array.isArray(list) || list.length === 0) {
      el.history.appendChild(node('li', 'muted small', 'Operations you run appear here.'));
      return;
    }
    list.forEach(function (h) {
      if (!h || typeof h.query !== 'string') { return; }
      var li = node('li');
      var summary = h.query.replace(/#[^\n]*/g, ' ').replace(/\s+/g, ' ').trim() || '(empty)';
      var button = node('button', null, summary);
      button.type = 'button';
      button.title = new Date(h.at || 0).toLocaleString() + '\n' + h.query;
      button.addEventListener('click', function () {
        el.query.value = h.query;
        el.variables.value = h.variables || '';
        el.headers.value = h.headers || '';
        saveSession();
        el.query.focus();
      });
      li.appendChild(button);
      el.history.appendChild(li);
    });
  }

  // ---- schema docs ----
  function typeName(ref) {
    if (!ref) { return '?'; }
    if (ref.kind === 'NON_NULL') { return typeName(ref.ofType) + '!'; }
    if (ref.kind === 'LIST') { return '[' + typeName(ref.ofType) + ']'; }
    return ref.name;
  }

  function namedType(ref) {
    while (ref && ref.ofType) { ref = ref.ofType; }
    return ref ? ref.name : null;
  }

  // A type reference as text with its named type as a link to that type's docs.
  function typeLink(ref) {
    var span = node('span');
    var full = typeName(ref);
    var name = namedType(ref);
    var at = name ? full.indexOf(name) : -1;
    if (at < 0) { span.textContent = full; return span; }
    span.appendChild(document.createTextNode(full.slice(0, at)));
    var link = node('button', 'link', name);
    link.type = 'button';
    link.addEventListener('click', function () { openType(name, true); });
    span.appendChild(link);
    span.appendChild(document.createTextNode(full.slice(at + name.length)));
    return span;
  }

  function loadSchema() {
    return post({ query: INTROSPECTION, operationName: 'IntrospectionQuery' }).then(function (r) {
      var schema = r.json && r.json.data && r.json.data.__schema;
      if (!schema) {
        var why = r.json && r.json.errors ? r.json.errors.map(function (e) { return e.message; }).join('; ') : 'HTTP ' + r.status;
        el.docsStatus.textContent = 'No schema: ' + why;
        el.docs.setAttribute('data-state', 'error');
        return;
      }
      schemaTypes = {};
      schema.types.forEach(function (t) { schemaTypes[t.name] = t; });
      rootNames = [schema.queryType, schema.mutationType, schema.subscriptionType]
        .filter(Boolean).map(function (t) { return t.name; });
      el.docsStatus.textContent = Object.keys(schemaTypes).length + ' types';
      renderTypeList();
      el.docs.setAttribute('data-state', 'done');
    }, function (e) {
      el.docsStatus.textContent = 'No schema: ' + e.message;
      el.docs.setAttribute('data-state', 'error');
    });
  }

  function renderTypeList() {
    var filter = el.docsSearch.value.trim().toLowerCase();
    var names = Object.keys(schemaTypes).filter(function (n) {
      return n.indexOf('__') !== 0 && (!filter || n.toLowerCase().indexOf(filter) >= 0);
    });
    names.sort(function (a, b) {
      var ra = rootNames.indexOf(a);
      var rb = rootNames.indexOf(b);
      if (ra >= 0 || rb >= 0) { return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb); }
      return a.localeCompare(b);
    });
    el.docs.textContent = '';
    names.forEach(function (n) {
      var li = node('li');
      var link = node('button', 'link', n);
      link.type = 'button';
      link.addEventListener('click', function () { openType(n, false); });
      li.appendChild(link);
      li.appendChild(node('span', 'kind', schemaTypes[n].kind.toLowerCase().replace('_', ' ')));
      el.docs.appendChild(li);
    });
    if (names.length === 0) { el.docs.appendChild(node('li', 'muted small', 'No type matches.')); }
  }

  function openType(name, fromType) {
    var t = schemaTypes[name];
    if (!t) { return; }
    if (!fromType) { docsTrail = []; }
    docsTrail.push(name);
    var view = el.typeView;
    view.textContent = '';
    view.hidden = false;
    if (docsTrail.length > 1) {
      var back = node('button', 'small', '← ' + docsTrail[docsTrail.length - 2]);
      back.type = 'button';
      back.addEventListener('click', function () {
        docsTrail.pop();
        var previous = docsTrail.pop();
        openType(previous, true);
      });
      view.appendChild(back);
    }
    view.appendChild(node('h2', null, name));
    view.appendChild(node('div', 'muted small', t.kind));
    if (t.description) { view.appendChild(node('p', 'desc', t.description)); }
    if (t.interfaces && t.interfaces.length) {
      var impl = node('div', 'field', 'implements ');
      t.interfaces.forEach(function (i) { impl.appendChild(typeLink(i)); impl.appendChild(document.createTextNode(' ')); });
      view.appendChild(impl);
    }
    (t.fields || t.inputFields || []).forEach(function (f) {
      var row = node('div', 'field');
      var title = node('span', f.isDeprecated ? 'deprecated' : null, f.name);
      row.appendChild(title);
      if (f.args && f.args.length) {
        row.appendChild(document.createTextNode('('));
        f.args.forEach(function (a, i) {
          if (i > 0) { row.appendChild(document.createTextNode(', ')); }
          row.appendChild(document.createTextNode(a.name + ': '));
          row.appendChild(typeLink(a.type));
          if (a.defaultValue !== null && a.defaultValue !== undefined) {
            row.appendChild(document.createTextNode(' = ' + a.defaultValue));
          }
        });
        row.appendChild(document.createTextNode(')'));
      }
      row.appendChild(document.createTextNode(': '));
      row.appendChild(typeLink(f.type));
      if (f.description) { row.appendChild(node('div', 'desc', f.description)); }
      if (f.isDeprecated) { row.appendChild(node('div', 'desc', 'Deprecated: ' + (f.deprecationReason || ''))); }
      view.appendChild(row);
    });
    (t.enumValues || []).forEach(function (v) {
      var row = node('div', 'field');
      row.appendChild(node('span', v.isDeprecated ? 'deprecated' : null, v.name));
      if (v.description) { row.appendChild(node('div', 'desc', v.description)); }
      view.appendChild(row);
    });
    if (t.possibleTypes && t.possibleTypes.length) {
      var members = node('div', 'field', 'possible types: ');
      t.possibleTypes.forEach(function (p) { members.appendChild(typeLink(p)); members.appendChild(document.createTextNode(' ')); });
      view.appendChild(members);
    }
    view.scrollTop = 0;
  }

  // ---- wiring ----
  function tabs() {
    Array.prototype.forEach.call(document.querySelectorAll('.tabs'), function (bar) {
      var buttons = bar.querySelectorAll('.tab');
      Array.prototype.forEach.call(buttons, function (button) {
        button.addEventListener('click', function () {
          Array.prototype.forEach.call(buttons, function (b) {
            b.classList.toggle('active', b === button);
            $(b.getAttribute('data-tab')).hidden = b !== button;
          });
        });
      });
    });
  }

  function editorKeys(textarea) {
    textarea.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        run();
      } else if (event.key === 'Tab' && !event.shiftKey) {
        event.preventDefault();
        var start = textarea.selectionStart;
        textarea.setRangeText('  ', start, textarea.selectionEnd, 'end');
      }
    });
    textarea.addEventListener('change', saveSession);
  }

  function prettifyJson() {
    [el.variables, el.headers].forEach(function (t) {
      try {
        var value = parseObject(t.value, 'Value');
        if (value) { t.value = pretty(value); }
      } catch (e) { /* leave it as typed; Run reports the error */ }
    });
  }

  function start() {
    ['query', 'variables', 'headers', 'result', 'plan', 'status', 'docs', 'history', 'endpoint'].forEach(function (id) {
      el[id] = $(id);
    });
    el.docsSearch = $('docs-search');
    el.docsStatus = $('docs-status');
    el.typeView = $('type-view');
    el.endpoint.textContent = window.location.origin + ENDPOINT;

    var params = new URLSearchParams(window.location.search);
    var session = load(SESSION_KEY, null) || {};
    el.query.value = params.get('query') || session.query || DEFAULT_QUERY;
    el.variables.value = params.get('variables') || (params.get('query') ? '' : session.variables || '');
    el.headers.value = params.get('headers') || session.headers || '';

    tabs();
    [el.query, el.variables, el.headers].forEach(editorKeys);
    $('run').addEventListener('click', run);
    $('plan-button').addEventListener('click', function () { plan(null); });
    $('prettify').addEventListener('click', prettifyJson);
    $('history-clear').addEventListener('click', function () { store(HISTORY_KEY, []); renderHistory(); });
    el.docsSearch.addEventListener('input', renderTypeList);
    renderHistory();

    var ready = Promise.all([probePlans(), loadSchema()]);
    ready.then(function () {
      if (params.get('run') === '1') { return run(); }
      return undefined;
    }).then(function () {
      console.info('weft playground ready');
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
