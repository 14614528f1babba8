// Copies non-TypeScript runtime assets (Lua scripts) from lib/ into dist/lib/,
// next to the compiled modules that load them with `new URL('./x.lua', import.meta.url)`.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const EXTENSIONS = ['.lua'];

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (EXTENSIONS.some((ext) => name.endsWith(ext))) yield path;
  }
}

let copied = 0;
for (const file of walk(join(root, 'lib'))) {
  cpSync(file, join(root, 'dist', relative(root, file)));
  copied++;
}
console.log(`copy-assets: ${copied} file(s) copied to dist/`);
