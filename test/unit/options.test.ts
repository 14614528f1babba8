import assert from 'node:assert/strict';
import { parseAddress } from '../../lib/core/addresses.js';
import { resolveOptions, DEFAULTS } from '../../lib/options.js';
import { InvalidArgumentError } from '../../lib/errors.js';

const base = { rootNodes: ['127.0.0.1:7000'] };

function rejects(opts: unknown, argument: RegExp, message?: RegExp): void {
  assert.throws(() => resolveOptions(opts as never), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_SLOTWISE_INVALID_ARGUMENT');
    assert.match(err.argument, argument);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('resolveOptions (unit)', () => {
  it('applies every default and freezes the result', () => {
    const o = resolveOptions(base);
    assert.equal(o.commandTimeoutMs, DEFAULTS.commandTimeoutMs);
    assert.equal(o.circuitBreaker.failureThreshold, DEFAULTS.circuitBreaker.failureThreshold);
    assert.deepEqual(o.rootNodes, [{ host: '127.0.0.1', port: 7000 }]);
    assert.ok(Object.isFrozen(o) && Object.isFrozen(o.circuitBreaker) && Object.isFrozen(o.rootNodes));
  });

  it('merges nested breaker options over defaults', () => {
    const o = resolveOptions({ ...base, circuitBreaker: { failFast: true } });
    assert.equal(o.circuitBreaker.failFast, true);
    assert.equal(o.circuitBreaker.resetTimeoutMs, DEFAULTS.circuitBreaker.resetTimeoutMs);
  });

  it('rejects out-of-range numbers naming the option, the value and the range', () => {
    rejects({ ...base, commandTimeoutMs: 0 }, /commandTimeoutMs/, /integer from 1 to .* got 0/);
    rejects({ ...base, commandTimeoutMs: 1.5 }, /commandTimeoutMs/);
    rejects({ ...base, maxRedirections: -1 }, /maxRedirections/);
    rejects({ ...base, topologySampleSize: 0 }, /topologySampleSize/);
    rejects({ ...base, circuitBreaker: { failureThreshold: 0 } }, /circuitBreaker.failureThreshold/);
    rejects({ ...base, commandTimeoutMs: '5000' }, /commandTimeoutMs/, /got "5000"/);
  });

  it('checks across fields', () => {
    rejects({ ...base, retryBaseDelayMs: 100, retryMaxDelayMs: 10 }, /retryMaxDelayMs/, /≥ retryBaseDelayMs/);
    rejects({ ...base, username: 'app' }, /username/, /needs a password/);
  });

  it('rejects unknown options and bad shapes', () => {
    rejects({ ...base, comandTimeoutMs: 5 }, /comandTimeoutMs/, /unknown option/);
    rejects({ ...base, circuitBreaker: { treshold: 1 } }, /circuitBreaker.treshold/);
    rejects({ rootNodes: [] }, /rootNodes/);
    rejects({ rootNodes: ['nohost'] }, /rootNodes\[0\]/);
    rejects({ rootNodes: [{ host: 'h', port: 70000 }] }, /rootNodes\[0\]/);
    rejects({ ...base, readFrom: 'slave' }, /readFrom/, /replicaPreferred/);
    rejects({ ...base, protocol: 4 }, /protocol/);
    rejects({ ...base, natMap: 5 }, /natMap/);
    rejects({ ...base, dnsLookup: 'coredns' }, /dnsLookup/, /expected a function \(hostname, callback\)/);
    rejects(null, /options/);
  });

  it('parses host:port forms', () => {
    assert.deepEqual(parseAddress('[::1]:7000'), { host: '::1', port: 7000 });
    assert.deepEqual(parseAddress({ host: 'redis', port: 6379 }), { host: 'redis', port: 6379 });
    assert.throws(() => parseAddress(':7000'), InvalidArgumentError);
  });
});
