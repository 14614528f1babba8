#!/usr/bin/env node
// Copies non-TypeScript runtime assets (Lua scripts) next to the compiled
// output, so `readFileSync(new URL('./x.lua', import.meta.url))` works from
// dist/ exactly as from the sources. Usage: copy-assets.mjs [outDir=dist]
import { cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'dist');

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.lua')) cpSync(p, join(out, relative(root, p)));
  }
}
walk(join(root, 'lib'));
