#!/usr/bin/env node
// Fresh-machine set-up, run before `npm start`, `npm test` and `npm run bench`.
// Dependency-free on purpose: it runs before node_modules exists.
//  1. installs npm dependencies when any is missing;
//  2. makes sure a redis-server >= 7 exists (REDIS_SERVER_BIN, PATH, or — as
//     root with apt — Debian's package), or stops with a message saying what to do.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, accessSync, constants } from 'node:fs';
import { delimiter, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIN_MAJOR = 7;

function log(msg) {
  process.stderr.write(`[slotwise setup] ${msg}\n`);
}

function missingDependencies() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  return names.filter((n) => !existsSync(join(root, 'node_modules', n, 'package.json')));
}

function ensureNodeModules() {
  const missing = missingDependencies();
  if (missing.length === 0) return;
  log(`installing npm dependencies (missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`);
  const hasLock = existsSync(join(root, 'package-lock.json'));
  const args = hasLock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  let res = spawnSync('npm', args, { cwd: root, stdio: 'inherit' });
  if (res.status !== 0 && hasLock) {
    // A registry mirror that lacks another platform's optional binaries makes
    // `npm ci` call the lock "out of sync"; `npm install` resolves the same
    // tree from the lock and skips what this platform does not need.
    log(`"npm ${args.join(' ')}" failed (exit ${res.status}); retrying with "npm install --no-save".`);
    res = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  }
  if (res.status !== 0) {
    log(`installing npm dependencies failed (exit ${res.status}); run "npm ci" by hand to see why.`);
    process.exit(1);
  }
}

function isExecutable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  for (const dir of ['/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function serverMajor(bin) {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const m = /v=(\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const HOW_TO_INSTALL = [
  'slotwise needs redis-server >= 7 to run its real Redis Cluster. Install it, then re-run:',
  '  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y redis-server',
  '  macOS:         brew install redis',
  '  or point REDIS_SERVER_BIN at a redis-server binary (>= 7).',
  'Only the binary is used; no server at port 6379 is needed or touched.',
].join('\n');

function ensureRedisServer() {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  if (fromEnv) {
    const major = isExecutable(fromEnv) ? serverMajor(fromEnv) : undefined;
    if (major !== undefined && major >= MIN_MAJOR) return;
    log(`REDIS_SERVER_BIN=${fromEnv} is not an executable redis-server >= ${MIN_MAJOR} (found: ${major ?? 'nothing runnable'}).`);
    log(HOW_TO_INSTALL);
    process.exit(1);
  }
  const found = onPath('redis-server');
  const major = found ? serverMajor(found) : undefined;
  if (found && major !== undefined && major >= MIN_MAJOR) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = onPath('apt-get');
  if (isRoot && apt) {
    log(found ? `${found} is version ${major}; installing Debian's redis-server` : "redis-server not found; installing Debian's redis-server package");
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync(apt, ['update', '-qq'], { stdio: 'inherit', env });
    const install = update.status === 0 && spawnSync(apt, ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
    const bin = onPath('redis-server');
    const now = bin ? serverMajor(bin) : undefined;
    if (install && install.status === 0 && now !== undefined && now >= MIN_MAJOR) {
      log(`installed ${bin} (major ${now})`);
      return;
    }
    log(`apt-get could not provide redis-server >= ${MIN_MAJOR}.`);
  }
  log(found ? `${found} is version ${major ?? 'unknown'}, older than ${MIN_MAJOR}.` : 'redis-server was not found.');
  log(HOW_TO_INSTALL);
  process.exit(1);
}

ensureNodeModules();
ensureRedisServer();
