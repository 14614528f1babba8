/**
 * The API reference cannot rot: TypeDoc's validation (typedoc.json: every
 * public export, member and option documented, every option of an
 * `…Options` interface with `@default` (scripts/typedoc-require-defaults.mjs),
 * links resolve, nothing public refers to an unexported type; warnings are
 * errors) passes on the four
 * entry points — and the same rules fail on a fixture whose export and option
 * lost their doc comments (or an option its `@default`), naming each.
 *
 * Runs TypeDoc with `--emit none` (conversion and validation only, about
 * 8 s of CPU for the whole project: `skipErrorChecking`, since type errors are
 * tsc's job); `npm run docs` renders the Markdown.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
const fixtureOptions = join(root, 'test', 'fixtures', 'docs', 'typedoc.json');

interface Run {
  code: number;
  output: string;
}

/** Runs TypeDoc in the project root; colours off so the output can be matched. */
function runTypedoc(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [typedoc, ...args, '--emit', 'none'], { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, output: `${stdout}${stderr}`.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

describe('API reference (TypeDoc validation)', function () {
  // TypeDoc type-checks the whole project first; on a loaded 2-core machine that can take a while.
  this.timeout(240_000);

  it('passes on slotwise, slotwise/testcontainers, slotwise/express-session and slotwise/ioredis with zero warnings', async () => {
    const run = await runTypedoc([]);
    const problems = run.output.split('\n').filter((line) => /\[warning\]|\[error\]/.test(line) && !/Found \d+ errors/.test(line));
    // One line per symbol, e.g. "slotwise.FooOptions.bar (Property), defined in slotwise/lib/foo.ts, does not have any documentation".
    assert.deepEqual(problems, [], `public API without a doc comment (add a /** … */ to each; options also need @default), or a broken link:\n${problems.join('\n')}`);
    assert.equal(run.code, 0, run.output);
  });

  it('passes on a fixture where every export and option is documented', async () => {
    const run = await runTypedoc(['--options', fixtureOptions]);
    assert.equal(run.code, 0, run.output);
  });

  it('fails on the same fixture once an export and an option lose their doc comments and an option its @default, naming each', async () => {
    const run = await runTypedoc(['--options', fixtureOptions, '--entryPoints', 'test/fixtures/docs/undocumented.ts']);
    assert.notEqual(run.code, 0, `expected the check to fail:\n${run.output}`);
    assert.match(run.output, /greet \(CallSignature\).*does not have any documentation/);
    assert.match(run.output, /GreetOptions\.name \(Property\).*does not have any documentation/);
    assert.match(run.output, /GreetOptions\.excited \(option\).*has no @default tag/);
    assert.doesNotMatch(run.output, /GreetOptions\.loud/, 'a documented option is not reported');
  });
});
