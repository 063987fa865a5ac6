#!/usr/bin/env node
// Compose the shopgraph supergraph from the subgraphs' committed SDL files.
//
//   node router/compose.mjs <services.json>  > schema/supergraph.graphql
//
// services.json: [{"name": "catalog", "url": "http://127.0.0.1:4001/graphql",
//                  "sdl_path": "schema/catalog.graphql"}, ...]
// sdl_path is resolved against the current working directory.
//
// Exit codes: 0 = supergraph SDL on stdout; 1 = composition failed (each error
// message on its own line on stderr, SDL syntax errors included); 2 = usage or
// input error (missing argument, unreadable/invalid services.json, missing SDL file).
//
// Output is deterministic: services are composed in name order (the order in
// services.json does not matter), the SDL ends with exactly one newline, and no
// timestamps or absolute paths are embedded.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

function fail(code, lines) {
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.exit(code);
}

const args = process.argv.slice(2);
if (args.length !== 1 || args[0] === '-h' || args[0] === '--help') {
  fail(2, ['usage: node router/compose.mjs <services.json>']);
}

let services;
try {
  services = JSON.parse(readFileSync(args[0], 'utf8'));
} catch (err) {
  fail(2, [`compose: cannot read ${args[0]}: ${err.message}`]);
}
if (!Array.isArray(services) || services.length === 0) {
  fail(2, [`compose: ${args[0]} must be a non-empty JSON array of {name, url, sdl_path}`]);
}

const problems = [];
const seen = new Set();
for (const [i, s] of services.entries()) {
  for (const key of ['name', 'url', 'sdl_path']) {
    if (typeof s?.[key] !== 'string' || s[key] === '') {
      problems.push(`compose: entry ${i} needs a non-empty string "${key}"`);
    }
  }
  if (typeof s?.name === 'string') {
    if (seen.has(s.name)) problems.push(`compose: duplicate service name "${s.name}"`);
    seen.add(s.name);
  }
}
if (problems.length) fail(2, problems);

const definitions = [];
const errors = [];
for (const s of [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
  let sdl;
  try {
    sdl = readFileSync(resolve(process.cwd(), s.sdl_path), 'utf8');
  } catch (err) {
    fail(2, [`compose: cannot read SDL of "${s.name}" at ${s.sdl_path}: ${err.message}`]);
  }
  try {
    definitions.push({ name: s.name, url: s.url, typeDefs: parse(sdl, { noLocation: true }) });
  } catch (err) {
    // A GraphQL syntax error: report it like a composition error, naming the subgraph.
    errors.push(`[${s.name}] ${s.sdl_path}: ${err.message}`);
  }
}
if (errors.length) fail(1, errors);

const result = composeServices(definitions);
if (result.errors && result.errors.length > 0) {
  fail(1, result.errors.map((e) => e.message));
}

process.stdout.write(`${result.supergraphSdl.trimEnd()}\n`);
