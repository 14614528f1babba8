import { strict as assert } from 'node:assert';
import { getKeyIndexes, list } from '@ioredis/commands';
import fc from 'fast-check';
import { commandInfo } from '../../../lib/router/commands.js';
import { slotOfKeys } from '../../../lib/router/keys.js';
import { slotOf } from '../../../lib/core/slots.js';

describe('command table: the first-key-only fast path', () => {
  const names = list.filter((n) => commandInfo(n) !== undefined);
  const fast = names.filter((n) => commandInfo(n)!.firstKeyOnly);

  it('covers the everyday single-key commands and none with keys elsewhere', () => {
    for (const n of ['get', 'set', 'hget', 'hset', 'incr', 'expire', 'lpush', 'zadd', 'xadd', 'getex']) assert.ok(fast.includes(n), n);
    for (const n of ['mget', 'del', 'eval', 'sort', 'georadius', 'xread', 'rename', 'zunionstore', 'migrate', 'object', 'memory']) assert.ok(!fast.includes(n), n);
  });

  it('property: for every command it covers, the table places exactly one key, at the first argument, whatever the arguments', () => {
    const arg = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('STORE', 'BY', 'GET', 'STREAMS', 'KEYS', 'STOREDIST', '0', '1', '2', '3', '-1'));
    fc.assert(fc.property(fc.constantFrom(...fast), fc.array(arg, { minLength: 1, maxLength: 12 }), (name, args) => {
      assert.deepEqual(getKeyIndexes(name, args), [0], name);
      assert.equal(slotOfKeys(commandInfo(name)!, args), slotOf(args[0]!));
    }), { numRuns: 3000 });
  });
});
