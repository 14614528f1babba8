#!/usr/bin/env node
// Launcher for the `slotwise` command. Runs the compiled CLI when the package
// is built (dist/), otherwise the TypeScript source through tsx (a dev
// dependency), so `npx slotwise …` works in a fresh checkout without a build.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', 'dist', 'bin', 'cli.js');
let cli;
if (existsSync(built)) {
  cli = await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(pathToFileURL(join(here, 'cli.ts')).href);
}
await cli.run();
