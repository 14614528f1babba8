/**
 * Fuzz (fast-check) of the command surface on a private real cluster:
 * typed methods (string and Buffer replies), call(), send(), pipeline(),
 * multi() and watch() with generated arguments. Every generated call either
 * resolves or rejects with a SlotwiseError / Redis reply error; calls with an
 * argument invalid by construction are InvalidArgumentError and write nothing;
 * well-formed commands issued alongside succeed; quit() resolves within 1 s.
 * Case counts: see `cases` (the suite asserts its share of the 10,000).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClusterClient } from '../../lib/index.js';
import { RedisClusterContainer, type StartedRedisCluster } from '../../testcontainers/index.js';
import { assertInvalidArgument, assertTypedError, badNameCall, garbageCall, show, validCall, type CommandCase } from './arbitraries.js';
import { fuzzRun, OK_KEYS, ProcessWatch } from './harness.js';
import { fuzzCases } from './count.js';

const CALLS_PER_RUN = 25;

type Any = Record<string, (...a: unknown[]) => unknown>;

/** Runs one generated call; resolves with the errors it produced (several for a pipeline). */
async function invoke(client: ClusterClient, c: CommandCase): Promise<unknown[]> {
  const errors: unknown[] = [];
  const outcome = async (f: () => unknown) => {
    try {
      await f();
    } catch (err) {
      errors.push(err);
    }
  };
  const any = client as unknown as Any;
  switch (c.via) {
    case 'method':
      await outcome(() => any[c.name]!(...c.args));
      break;
    case 'buffer':
      await outcome(() => any[`${c.name}Buffer`]!(...c.args));
      break;
    case 'call':
      await outcome(() => client.call(c.name, ...c.args));
      break;
    case 'send':
      await outcome(() => client.send(c.name, c.args));
      break;
    case 'pipeline':
      await outcome(async () => {
        // The probe key is one no generated call can name (they all start with "fz:"), or a concurrent
        // valid call could write it (an LPUSH made this GET answer WRONGTYPE in a full run).
        const results = await client.pipeline().get('probe:{t}never-written').call(c.name, ...(c.args as string[])).exec();
        assert.ok(results);
        assert.equal(results.length, 2);
        assert.equal(results[0]![0], null, 'the other entry of the pipeline is unaffected');
        if (results[1]![0]) throw results[1]![0];
      });
      break;
    case 'multi':
      await outcome(() => client.multi().call(c.name, ...c.args).exec());
      break;
    case 'watch':
      await outcome(() => client.watch('fz:{t}w', async (tx) => tx.call(c.name, ...c.args)));
      break;
  }
  return errors;
}

describe('fuzz: commands with generated arguments (private cluster)', function () {
  this.timeout(120_000);
  let cluster: StartedRedisCluster;
  const watch = new ProcessWatch();
  let run = 0;

  before(async () => {
    cluster = await new RedisClusterContainer().withMasters(3).withReplicasPerMaster(0).start();
    const c = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    for (let i = 0; i < OK_KEYS; i++) await c.set(`{ok}:${i}`, 'init');
    await c.quit();
    watch.start();
  });
  after(async () => {
    watch.stop();
    await cluster?.stop();
  });

  it('calls with an invalid argument or name: InvalidArgumentError each, nothing written, nothing else disturbed', async () => {
    const runs = 150;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 5, arbitrary: garbageCall }, { weight: 1, arbitrary: badNameCall }), { minLength: CALLS_PER_RUN, maxLength: CALLS_PER_RUN }), async (cases) => {
        await fuzzRun(cluster.getRootNodes(), watch, ++run, true, async (client) => {
          const outcomes = await Promise.all(cases.map((c) => invoke(client, c)));
          outcomes.forEach((errors, i) => {
            assert.equal(errors.length, 1, `${show(cases[i]!)}: expected a rejection, it resolved`);
            assertInvalidArgument(errors[0], show(cases[i]!));
          });
        });
        fuzzCases.add('commands: invalid argument or name', cases.length);
      }),
      { numRuns: runs },
    );
  });

  it('any call (valid or not): resolves, or a typed error — never a raw TypeError', async () => {
    const runs = 130;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 3, arbitrary: validCall }, { weight: 1, arbitrary: garbageCall }), { minLength: CALLS_PER_RUN, maxLength: CALLS_PER_RUN }), async (cases) => {
        await fuzzRun(cluster.getRootNodes(), watch, ++run, false, async (client) => {
          const outcomes = await Promise.all(cases.map((c) => invoke(client, c)));
          outcomes.forEach((errors, i) => {
            for (const e of errors) (cases[i]!.garbage ? assertInvalidArgument : assertTypedError)(e, show(cases[i]!));
          });
        });
        fuzzCases.add('commands: any call', cases.length);
      }),
      { numRuns: runs },
    );
  });
});
