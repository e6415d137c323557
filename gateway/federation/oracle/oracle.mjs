#!/usr/bin/env node
// The composition oracle: Apollo's reference implementation (@apollo/composition,
// `composeServices`, pinned in package.json / package-lock.json) gives each case of the
// composition corpus its expected verdict, error codes, hint codes and supergraph. Those
// expectations are written by this script only, never by hand; CI runs it in `--check` mode
// so a hand edit (or a case added without recording) fails.
//
// Usage (after `npm ci` in this folder):
//   node oracle.mjs                 # record every case of ../tests/compose_corpus
//   node oracle.mjs CASE ...        # record only these cases (folder names or paths)
//   node oracle.mjs --check         # recompute every case; exit 1 if any file on disk differs
//   node oracle.mjs --bases [--check] # the check corpus's bases (see below)
//   node oracle.mjs --load-weft DIR # DIR/<case>.graphql: supergraphs Weft composed (written by
//                                   # `WEFT_CORPUS_SUPERGRAPHS=DIR cargo test --test compose_corpus`);
//                                   # each must load in Apollo's Supergraph.build and give the
//                                   # API schema Apollo's own supergraph for the case gives
//
// A case folder `NNN-name/` holds `subgraphs/<name>.graphql` (the subgraph's name is the file
// stem, its routing URL http://<name>:4000/graphql). The oracle writes next to it:
//   apollo.json         {"valid", "errors": [{code, message}], "hints": [{code, message}]}
//   supergraph.graphql  Apollo's supergraphSdl, for valid cases only
//
// `--bases`: every federation case of ../tests/check_corpus (`before/<name>.graphql`, routing
// URLs from `before/routing_urls.json`, else http://<name>/graphql) gets the current supergraph
// as Apollo composition and as Hive's composition (@theguild/federation-composition) build it:
// `bases/apollo.graphql` and `bases/hive.graphql`. The Rust test check_corpus.rs runs `weft
// check` against each (and against Weft's own composition) and requires the same verdict.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
const { parse } = require('graphql');
const { composeServices } = require('@apollo/composition');
const { Supergraph, ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, printSchema } = require('@apollo/federation-internals');

const corpusDir = resolve(here, '../tests/compose_corpus');
const checkCorpusDir = resolve(here, '../tests/check_corpus');

function withNewline(s) {
  return s.endsWith('\n') ? s : `${s}\n`;
}

function services(caseDir) {
  const dir = join(caseDir, 'subgraphs');
  if (!existsSync(dir)) throw new Error(`${caseDir}: no subgraphs/ folder`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  if (files.length === 0) throw new Error(`${caseDir}: no subgraphs/*.graphql`);
  return files.map((file) => {
    const name = basename(file, '.graphql');
    const sdl = readFileSync(join(dir, file), 'utf8');
    // A case's SDL must be GraphQL; a syntax error is a mistake in the case, not a verdict.
    const typeDefs = parse(sdl);
    return { name, url: `http://${name}:4000/graphql`, typeDefs };
  });
}

/// What the oracle expects for one case: the files' contents (`null` = must not exist).
function expectations(caseDir) {
  const result = composeServices(services(caseDir));
  const errors = (result.errors ?? []).map((e) => ({
    code: e.extensions?.code ?? 'UNKNOWN',
    message: e.message,
  }));
  const hints = (result.hints ?? []).map((h) => ({
    code: h.definition?.code ?? 'UNKNOWN',
    message: h.message,
  }));
  const valid = errors.length === 0;
  let supergraph = null;
  if (valid) {
    supergraph = withNewline(result.supergraphSdl);
    // Apollo's own loader must accept Apollo's output, or the case tests nothing useful.
    Supergraph.build(supergraph, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
  }
  const codes = valid ? 'valid' : [...new Set(errors.map((e) => e.code))].sort().join(', ');
  const hintCodes = [...new Set(hints.map((h) => h.code))].sort().join(', ');
  return {
    files: {
      'apollo.json': `${JSON.stringify({ valid, errors, hints }, null, 2)}\n`,
      'supergraph.graphql': supergraph,
    },
    summary: `${codes}${hintCodes ? `  (hints: ${hintCodes})` : ''}`,
  };
}

function onDisk(path) {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

function apiSchema(sdl) {
  const supergraph = Supergraph.build(sdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
  // Extraction is what a router or `rover` does next with a supergraph: it must succeed too.
  supergraph.subgraphs();
  return printSchema(supergraph.apiSchema());
}

function loadWeft(dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  const failures = [];
  for (const file of files) {
    const name = basename(file, '.graphql');
    let ours;
    try {
      ours = apiSchema(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      failures.push(`${name}: Apollo cannot load Weft's supergraph: ${e.message}`);
      continue;
    }
    const theirs = apiSchema(readFileSync(join(corpusDir, name, 'supergraph.graphql'), 'utf8'));
    if (ours !== theirs) failures.push(`${name}: API schema differs from Apollo's`);
  }
  for (const f of failures) process.stderr.write(`oracle: ${f}\n`);
  process.stderr.write(`oracle: ${files.length - failures.length} of ${files.length} Weft supergraphs load in Apollo with Apollo's API schema\n`);
  process.exit(failures.length > 0 || files.length === 0 ? 1 : 0);
}

/// The subgraphs of a check-corpus case's `before/`, as both composers take them.
function baseServices(dir) {
  const urlsFile = join(dir, 'routing_urls.json');
  const urls = existsSync(urlsFile) ? JSON.parse(readFileSync(urlsFile, 'utf8')) : {};
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((file) => {
      const name = basename(file, '.graphql');
      const typeDefs = parse(readFileSync(join(dir, file), 'utf8'));
      return { name, url: urls[name] ?? `http://${name}/graphql`, typeDefs };
    });
}

async function bases(check) {
  const hive = await import('@theguild/federation-composition');
  const stale = [];
  const failed = [];
  const cases = readdirSync(checkCorpusDir)
    .filter((d) => existsSync(join(checkCorpusDir, d, 'before')))
    .sort();
  for (const name of cases) {
    const caseDir = join(checkCorpusDir, name);
    const services = baseServices(join(caseDir, 'before'));
    const apollo = composeServices(services);
    const theirs = hive.composeServices(services);
    const files = {};
    if (apollo.errors?.length) failed.push(`${name}: Apollo: ${apollo.errors.map((e) => e.message).join('; ')}`);
    else files['apollo.graphql'] = withNewline(apollo.supergraphSdl);
    if (theirs.errors?.length) failed.push(`${name}: Hive: ${theirs.errors.map((e) => e.message).join('; ')}`);
    else files['hive.graphql'] = withNewline(theirs.supergraphSdl);
    for (const [file, content] of Object.entries(files)) {
      // Both must be supergraphs a router loads, or the base tests nothing.
      Supergraph.build(content, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
      const path = join(caseDir, 'bases', file);
      if (check) {
        if (onDisk(path) !== content) stale.push(`${name}/bases/${file}`);
      } else {
        mkdirSync(join(caseDir, 'bases'), { recursive: true });
        writeFileSync(path, content);
      }
    }
  }
  for (const f of failed) process.stderr.write(`oracle: ${f}\n`);
  for (const s of stale) process.stderr.write(`oracle: stale (re-record with --bases): ${s}\n`);
  process.stderr.write(`oracle: ${cases.length} check-corpus bases, ${failed.length} failed to compose, ${stale.length} stale\n`);
  process.exit(failed.length > 0 || stale.length > 0 ? 1 : 0);
}

const args = process.argv.slice(2);
if (args[0] === '--load-weft') loadWeft(resolve(args[1] ?? ''));
if (args[0] === '--bases') await bases(args.includes('--check'));
const check = args.includes('--check');
const named = args.filter((a) => a !== '--check');
const cases = named.length > 0
  ? named.map((a) => (existsSync(a) ? resolve(a) : join(corpusDir, a)))
  : readdirSync(corpusDir)
      .filter((d) => /^\d{3}-/.test(d) && statSync(join(corpusDir, d)).isDirectory())
      .sort()
      .map((d) => join(corpusDir, d));

const stale = [];
for (const caseDir of cases) {
  const name = basename(caseDir);
  let expected;
  try {
    expected = expectations(caseDir);
  } catch (e) {
    process.stderr.write(`oracle: ${name}: ${e.message}\n`);
    process.exit(2);
  }
  for (const [file, content] of Object.entries(expected.files)) {
    const path = join(caseDir, file);
    if (check) {
      if (onDisk(path) !== content) stale.push(`${name}/${file}`);
    } else if (content === null) {
      if (existsSync(path)) rmSync(path);
    } else {
      writeFileSync(path, content);
    }
  }
  if (!check) process.stderr.write(`${name}: ${expected.summary}\n`);
}

if (check) {
  if (stale.length > 0) {
    process.stderr.write(
      `oracle: ${stale.length} file(s) differ from a fresh Apollo composition ` +
        `(re-record with \`node gateway/federation/oracle/oracle.mjs\`; never edit them by hand):\n` +
        stale.map((s) => `  ${s}\n`).join(''),
    );
    process.exit(1);
  }
  process.stderr.write(`oracle: all ${cases.length} cases match Apollo composition\n`);
}
