// Bundles the playground (docs/playground.md) into one directory of static files that the
// weft binary embeds: index.js and index.css (GraphiQL, its plugins and ours), the three
// Monaco web workers (served from our own origin, so the CSP can say worker-src 'self'),
// and the editor's icon font. Run by gateway/server/build.rs: `node build.mjs <outdir>`.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';

const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node build.mjs <outdir>');
  process.exit(2);
}
rmSync(outdir, { recursive: true, force: true });

const common = {
  bundle: true,
  minify: true,
  // Classic scripts (loaded with `defer` and `new Worker(url)`): no module loader needed,
  // and esbuild inlines the dynamic imports Monaco and the toolkit use.
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  outdir: resolve(outdir),
  entryNames: '[name]',
  assetNames: '[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.ttf': 'file' },
};

await build({
  ...common,
  entryPoints: { index: 'src/index.jsx' },
  jsx: 'automatic',
});
await build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
});
