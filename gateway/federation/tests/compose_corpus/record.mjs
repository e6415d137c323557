#!/usr/bin/env node
// Composition corpus recorder: composes each case's subgraphs with Apollo's
// reference implementation (@apollo/composition composeServices) and records
// its verdict, so that Weft's composer can be tested against it.
//
// This script is NOT run by the test suite or CI; it is the record of how the
// committed apollo.json / supergraph.graphql files were produced. See README.md.
//
// Packages are resolved from $WEFT_ORACLE_DIR (default /work/oracle), a folder
// outside the repository where the npm packages were installed.
//
// Usage:
//   node record.mjs            # every case folder next to this script
//   node record.mjs <case> ... # only these case folders (names or paths)
//
// For each case folder `NNN-name/`:
//   input:  subgraphs/<subgraph>.graphql (subgraph name = file stem,
//           routing URL http://<subgraph>:4000/graphql)
//   output: apollo.json {"valid", "errors": [{code, message}], "hints": [{code, message}]}
//           supergraph.graphql (Apollo's supergraphSdl), only for valid cases
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, readdirSync, existsSync, rmSync, statSync } from 'node:fs';
import { join, resolve, basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const oracleDir = resolve(process.env.WEFT_ORACLE_DIR ?? '/work/oracle');
const require = createRequire(join(oracleDir, 'package.json'));
const { parse } = require('graphql');
const { composeServices } = require('@apollo/composition');

const corpusDir = dirname(fileURLToPath(import.meta.url));

function die(msg) {
  process.stderr.write(`record: ${msg}\n`);
  process.exit(1);
}

function withNewline(s) {
  return s.endsWith('\n') ? s : `${s}\n`;
}

function services(caseDir) {
  const dir = join(caseDir, 'subgraphs');
  if (!existsSync(dir)) die(`${caseDir}: no subgraphs/ folder`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.graphql')).sort();
  if (files.length === 0) die(`${caseDir}: no subgraphs/*.graphql`);
  return files.map((file) => {
    const name = basename(file, '.graphql');
    const sdl = readFileSync(join(dir, file), 'utf8');
    let typeDefs;
    try {
      typeDefs = parse(sdl);
    } catch (e) {
      die(`${caseDir}: cannot parse ${file}: ${e.message}`);
    }
    return { name, url: `http://${name}:4000/graphql`, typeDefs };
  });
}

function record(caseDir) {
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
  const verdict = { valid, errors, hints };
  writeFileSync(join(caseDir, 'apollo.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  const supergraphFile = join(caseDir, 'supergraph.graphql');
  if (valid) {
    writeFileSync(supergraphFile, withNewline(result.supergraphSdl));
  } else if (existsSync(supergraphFile)) {
    rmSync(supergraphFile);
  }
  const codes = valid ? 'valid' : [...new Set(errors.map((e) => e.code))].sort().join(', ');
  const hintCodes = [...new Set(hints.map((h) => h.code))].sort().join(', ');
  process.stderr.write(`${basename(caseDir)}: ${codes}${hintCodes ? `  (hints: ${hintCodes})` : ''}\n`);
}

const args = process.argv.slice(2);
const cases = args.length > 0
  ? args.map((a) => (existsSync(a) ? resolve(a) : join(corpusDir, a)))
  : readdirSync(corpusDir)
      .filter((d) => /^\d{3}-/.test(d) && statSync(join(corpusDir, d)).isDirectory())
      .sort()
      .map((d) => join(corpusDir, d));
for (const c of cases) record(c);
