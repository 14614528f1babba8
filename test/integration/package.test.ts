/**
 * The published shape: `npm run build` output loads by package name through
 * the exports map, with import AND require() (Node ≥ 20.19), for both entry points.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('package build and exports (integration)', function () {
  this.timeout(120_000);
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(join(os.tmpdir(), 'slotwise-pkg-'));
    const pkg = join(tmp, 'pkg');
    mkdirSync(pkg);
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { stdio: 'pipe' });
    execFileSync(process.execPath, [join(root, 'scripts', 'copy-assets.mjs'), join(pkg, 'dist')], { stdio: 'pipe' });
    const app = join(tmp, 'app', 'node_modules');
    mkdirSync(app, { recursive: true });
    symlinkSync(pkg, join(app, 'slotwise'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const probe = "typeof m.ClusterClient + ' ' + typeof t.RedisClusterContainer + ' ' + typeof m.InvalidArgumentError";

  it('require() loads both entry points', () => {
    const out = execFileSync(process.execPath, ['-e', `const m = require('slotwise'); const t = require('slotwise/testcontainers'); console.log(${probe})`], { cwd: join(tmp, 'app'), encoding: 'utf8' });
    assert.equal(out.trim(), 'function function function');
  });

  it('import loads both entry points', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import * as m from 'slotwise'; import * as t from 'slotwise/testcontainers'; console.log(${probe})`], { cwd: join(tmp, 'app'), encoding: 'utf8' });
    assert.equal(out.trim(), 'function function function');
  });

  it('slotwise/ioredis loads with import and require(): Cluster as a named export and on the default export', () => {
    const cwd = join(tmp, 'app');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import Redis, { Cluster, ReplyError } from 'slotwise/ioredis'; console.log(typeof Cluster, Redis.Cluster === Cluster, typeof ReplyError)"], { cwd, encoding: 'utf8' });
    assert.equal(esm.trim(), 'function true function');
    const cjs = execFileSync(process.execPath, ['-e', "const m = require('slotwise/ioredis'); console.log(typeof m.Cluster, m.default.Cluster === m.Cluster)"], { cwd, encoding: 'utf8' });
    assert.equal(cjs.trim(), 'function true');
  });

  it('slotwise/express-session loads with import and require() (express-session is an optional peer)', () => {
    const cwd = join(tmp, 'app');
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { SlotwiseSessionStore } from 'slotwise/express-session'; console.log(typeof SlotwiseSessionStore, typeof SlotwiseSessionStore.prototype.createSession)"], { cwd, encoding: 'utf8' });
    assert.equal(esm.trim(), 'function function', 'a subclass of express-session\'s Store');
    const cjs = execFileSync(process.execPath, ['-e', "console.log(typeof require('slotwise/express-session').SlotwiseSessionStore)"], { cwd, encoding: 'utf8' });
    assert.equal(cjs.trim(), 'function');
  });

  it('the published types compile for a strict consumer and carry no @internal member', () => {
    const app = join(tmp, 'app');
    writeFileSync(join(app, 'consumer.ts'), [
      "import { ClusterClient, Mutex, WorkQueue, Topic, SessionStore, type NodeHandle } from 'slotwise';",
      "import { RedisClusterContainer } from 'slotwise/testcontainers';",
      "const client = new ClusterClient({ rootNodes: ['127.0.0.1:7000'] });",
      "const nodes: NodeHandle[] = client.nodes('master');",
      "void nodes[0]?.call('ping'); void client.pipeline().get('a').exec(); void client.scanIterator({ match: 'k:*' });",
      'void [Mutex, WorkQueue, Topic, SessionStore, RedisClusterContainer];',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'],
        strict: true, skipLibCheck: false, noEmit: true, types: ['node'], typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    }));
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(app, 'tsconfig.json')], { stdio: 'pipe' });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`a strict consumer does not compile against the published types:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`);
    }
    const handle = readFileSync(join(tmp, 'pkg', 'dist', 'lib', 'node', 'node-handle.d.ts'), 'utf8');
    assert.ok(handle.includes('call(') && !handle.includes('submit(') && !handle.includes('sampleStart('), 'internal NodeHandle members stripped, public ones kept');
  });
});
