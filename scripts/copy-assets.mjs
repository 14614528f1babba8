// Copies non-TypeScript assets of lib/ (Lua scripts) next to the compiled files in dist/lib/,
// where `new URL('./x.lua', import.meta.url)` looks for them at run time.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const copied = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.lua')) {
      const rel = relative(root, path);
      cpSync(path, join(root, 'dist', rel));
      copied.push(rel);
    }
  }
}
walk(join(root, 'lib'));
console.log(`copy-assets: ${copied.length} file(s) copied to dist/`);
