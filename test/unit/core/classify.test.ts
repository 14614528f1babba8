import assert from 'node:assert/strict';
import { classify, parseRedirect, transportError, isUnknownCommandReply } from '../../../lib/core/classify.js';
import { CircuitOpenError, ConnectionError, CrossSlotError, ProtocolError, RedisReplyError, TimeoutError } from '../../../lib/errors.js';

/** A server error reply as ioredis delivers it (redis-errors' ReplyError, name "ReplyError"). */
function reply(message: string): Error {
  const e = new Error(message);
  Object.defineProperty(e, 'name', { value: 'ReplyError' });
  return e;
}

describe('classify (unit)', () => {
  it('MOVED → moved with slot and target', () => {
    assert.deepEqual(classify(reply('MOVED 3999 127.0.0.1:6381')), { kind: 'moved', slot: 3999, host: '127.0.0.1', port: 6381 });
  });

  it('ASK → ask with slot and target', () => {
    assert.deepEqual(classify(reply('ASK 3999 10.0.0.5:7002')), { kind: 'ask', slot: 3999, host: '10.0.0.5', port: 7002 });
  });

  it('accepts hostnames, bracketed IPv6 and an empty endpoint (":port" = the node asked)', () => {
    assert.deepEqual(parseRedirect('MOVED 1 redis-2.redis.svc:6379'), { slot: 1, host: 'redis-2.redis.svc', port: 6379 });
    assert.deepEqual(parseRedirect('MOVED 1 [::1]:6379'), { slot: 1, host: '::1', port: 6379 });
    assert.deepEqual(parseRedirect('MOVED 1 ::1:6379'), { slot: 1, host: '::1', port: 6379 });
    assert.deepEqual(parseRedirect('MOVED 1 :6379'), { slot: 1, host: '', port: 6379 });
  });

  for (const bad of [
    'MOVED 16384 127.0.0.1:6379',
    'MOVED -1 127.0.0.1:6379',
    'MOVED 12.5 127.0.0.1:6379',
    'MOVED abc 127.0.0.1:6379',
    'MOVED 1e3 127.0.0.1:6379',
    'MOVED 100',
    'MOVED 100 127.0.0.1',
    'MOVED 100 127.0.0.1:0',
    'MOVED 100 127.0.0.1:70000',
    'MOVED 100 127.0.0.1:port',
    'MOVED 100 ?:6379',
    'ASK 99999 127.0.0.1:6379',
    'MOVED 100 127.0.0.1:6379 extra',
  ]) {
    it(`rejects a malformed redirect instead of following it: "${bad}"`, () => {
      const c = classify(reply(bad), { command: 'GET', slot: 100 });
      assert.equal(c.kind, 'final');
      assert.ok(c.kind === 'final' && c.error instanceof ProtocolError);
      assert.equal((c as unknown as { error: ProtocolError }).error.code, 'ERR_SLOTWISE_PROTOCOL');
    });
  }

  it('transient cluster states → wait, with refresh where the map is probably stale', () => {
    assert.deepEqual(classify(reply('TRYAGAIN Multiple keys request during rehashing of slot')), { kind: 'wait', reason: 'tryagain', refresh: false });
    assert.deepEqual(classify(reply('CLUSTERDOWN The cluster is down')), { kind: 'wait', reason: 'clusterdown', refresh: true });
    assert.deepEqual(classify(reply('CLUSTERDOWN Hash slot not served')), { kind: 'wait', reason: 'clusterdown', refresh: true });
    assert.deepEqual(classify(reply('LOADING Redis is loading the dataset in memory')), { kind: 'wait', reason: 'loading', refresh: false });
    assert.deepEqual(classify(reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.")), { kind: 'wait', reason: 'masterdown', refresh: true });
    assert.deepEqual(classify(reply('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)')), { kind: 'wait', reason: 'unblocked', refresh: true });
    assert.deepEqual(classify(reply("READONLY You can't write against a read only replica.")), { kind: 'wait', reason: 'readonly', refresh: true });
  });

  it('CROSSSLOT → final CrossSlotError; other replies → final RedisReplyError with context', () => {
    const cs = classify(reply("CROSSSLOT Keys in request don't hash to the same slot"), { slot: 5, command: 'MGET' });
    assert.ok(cs.kind === 'final' && cs.error instanceof CrossSlotError);
    const wt = classify(reply('WRONGTYPE Operation against a key holding the wrong kind of value'), { address: 'h:1', command: 'GET' });
    assert.ok(wt.kind === 'final' && wt.error instanceof RedisReplyError);
    const e = (wt as unknown as { error: RedisReplyError }).error;
    assert.equal(e.prefix, 'WRONGTYPE');
    assert.equal(e.address, 'h:1');
    assert.equal(e.command, 'GET');
  });

  it('transport errors → connection, maybeSent only when the bytes may have left', () => {
    const notSent = classify(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    assert.ok(notSent.kind === 'connection' && notSent.maybeSent === false);
    const lost = classify(new Error('Connection is closed.'));
    assert.ok(lost.kind === 'connection' && lost.maybeSent === true);
    const reset = classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    assert.ok(reset.kind === 'connection' && reset.maybeSent === true);
    assert.equal(transportError(new Error('something else')), undefined);
  });

  it('slotwise errors keep their meaning', () => {
    assert.equal(classify(new CircuitOpenError('h:1')).kind, 'breaker');
    const c = classify(new ConnectionError('x', { maybeSent: false }));
    assert.ok(c.kind === 'connection' && !c.maybeSent);
    assert.equal(classify(new TimeoutError('t', 5)).kind, 'final');
    assert.equal(classify('a string').kind, 'final');
  });

  it('recognises unknown (sub)command replies', () => {
    assert.ok(isUnknownCommandReply(reply("ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP.")));
    assert.ok(!isUnknownCommandReply(reply('ERR wrong number of arguments')));
    assert.ok(!isUnknownCommandReply(new Error('ERR unknown subcommand')));
  });
});
