// Where Monaco (the editor inside GraphiQL 5) gets its web workers: the three bundles
// build.mjs writes next to index.js, from our own origin (the CSP says worker-src 'self';
// GraphiQL's own setups load them from esm.sh or through a bundler's `new URL`). The URL
// is taken from this script's own address, so the page works under `/` and `/graphql`.
const base = document.currentScript ? document.currentScript.src : window.location.href;
const url = (name) => new URL(name, base).href;

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    switch (label) {
      case 'json':
        return new Worker(url('json.worker.js'));
      case 'graphql':
        return new Worker(url('graphql.worker.js'));
      default:
        return new Worker(url('editor.worker.js'));
    }
  },
};
