import assert from 'node:assert/strict';
import { InvalidArgumentError, RedisServerNotFoundError } from '../../lib/errors.js';
import { findRedisServer, liveEngineProcesses, RedisClusterContainer } from '../../testcontainers/index.js';
import { renderRedisConf } from '../../testcontainers/node-process.js';

function invalid(argument: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.argument, argument);
    assert.equal(err.code, 'ERR_SLOTWISE_INVALID_ARGUMENT');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('engine: builder validation', () => {
  it('rejects 0 masters, naming the option, the value and what was expected', () => {
    assert.throws(() => new RedisClusterContainer().withMasters(0), invalid('masters', /^Invalid masters: 0 is not an integer from 1 to 100$/));
    assert.throws(() => new RedisClusterContainer().withMasters(2.5), invalid('masters', /2\.5/));
  });

  it('rejects bad replica counts and node timeouts', () => {
    assert.throws(() => new RedisClusterContainer().withReplicasPerMaster(-1), invalid('replicasPerMaster', /-1 is not an integer from 0/));
    assert.throws(() => new RedisClusterContainer().withNodeTimeoutMs(50), invalid('nodeTimeoutMs', /50 is not an integer number of milliseconds from 100/));
  });

  it('rejects a replica count that needs more nodes than the port range can hold', async () => {
    // Compared with what ran before: the run's shared cluster may already be up.
    const before = liveEngineProcesses();
    const builder = new RedisClusterContainer().withMasters(3).withReplicasPerMaster(2).withPortRange(40_000, 40_009);
    await assert.rejects(builder.start(), invalid('portRange', /40000-40009 has 10 ports, but 3 masters × \(1 \+ 2 replicas\) = 9 nodes need 18/));
    assert.deepEqual(liveEngineProcesses(), before, 'nothing may be started for invalid options');
  });

  it('rejects bad ports, passwords, user names and runtimes', () => {
    assert.throws(() => new RedisClusterContainer().withPortRange(9000, 8000), invalid('portRange', /empty/));
    assert.throws(() => new RedisClusterContainer().withPortRange(80, 8000), invalid('portRange.from', /1024 and 65535/));
    assert.throws(() => new RedisClusterContainer().withBasePort(60_000), invalid('basePort', /bus port/));
    assert.throws(() => new RedisClusterContainer().withPassword(''), invalid('password', /non-empty/));
    assert.throws(() => new RedisClusterContainer().withPassword('has space'), invalid('password', /without spaces/));
    assert.throws(() => new RedisClusterContainer().withUser('default', 'pw'), invalid('username', /not "default"/));
    assert.throws(() => new RedisClusterContainer().withRuntime('podman' as never), invalid('runtime', /"podman" is not/));
    assert.throws(() => new RedisClusterContainer().withNetworkMode('overlay' as never), invalid('networkMode', /"overlay" is not 'host', 'bridge' or 'auto'/));
    assert.throws(() => new RedisClusterContainer().withHostnames('Bad_Domain'), invalid('hostnames', /"Bad_Domain" is not a DNS domain/));
    assert.throws(() => new RedisClusterContainer().withHostnames('.lead.dot'), invalid('hostnames', /not a DNS domain/));
  });
});

describe('engine: missing redis-server', () => {
  const saved = process.env.REDIS_SERVER_BIN;
  afterEach(() => {
    if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
    else process.env.REDIS_SERVER_BIN = saved;
  });

  function howToInstall(err: unknown): boolean {
    assert.ok(err instanceof RedisServerNotFoundError, `expected RedisServerNotFoundError, got ${String(err)}`);
    assert.match(err.message, /apt-get install -y redis-server/);
    assert.match(err.message, /brew install redis/);
    assert.match(err.message, /REDIS_SERVER_BIN/);
    return true;
  }

  it('withRedisServerBin() pointing nowhere says how to install Redis', async () => {
    await assert.rejects(new RedisClusterContainer().withRedisServerBin('/nonexistent/redis-server').start(), (err) => {
      assert.match((err as Error).message, /\/nonexistent\/redis-server does not exist/);
      return howToInstall(err);
    });
  });

  it('REDIS_SERVER_BIN pointing nowhere says how to install Redis', async () => {
    process.env.REDIS_SERVER_BIN = '/nonexistent/bin/redis-server';
    await assert.rejects(findRedisServer(), (err) => {
      assert.match((err as Error).message, /REDIS_SERVER_BIN is not usable/);
      return howToInstall(err);
    });
  });

  it('finds the installed redis-server >= 7', async () => {
    delete process.env.REDIS_SERVER_BIN;
    const bin = await findRedisServer();
    assert.ok(bin.major >= 7, `${bin.path} is ${bin.version}`);
  });
});

describe('engine: generated redis.conf', () => {
  it('contains the settings the engine relies on', () => {
    const conf = renderRedisConf({ port: 7000, busPort: 17_123, dir: '/tmp/slotwise-x', nodeTimeoutMs: 2000, appendOnly: false });
    for (const line of [
      'port 7000',
      'bind 127.0.0.1',
      'cluster-enabled yes',
      'cluster-port 17123',
      'cluster-node-timeout 2000',
      'daemonize no',
      'save ""',
      'appendonly no',
      'appendfsync everysec',
      'repl-diskless-sync-delay 0',
      'cluster-replica-validity-factor 0',
    ]) {
      assert.ok(conf.split('\n').includes(line), `missing "${line}" in:\n${conf}`);
    }
  });

  it('binds and announces the node address; with a hostname, makes it the preferred endpoint', () => {
    const base = { port: 7000, busPort: 17_000, dir: '/data', nodeTimeoutMs: 2000, appendOnly: true };
    const lines = (c: Parameters<typeof renderRedisConf>[0]) => renderRedisConf(c).split('\n');
    assert.ok(lines(base).includes('cluster-announce-ip 127.0.0.1'));
    const moved = lines({ ...base, bindHost: '127.0.0.3' });
    assert.ok(moved.includes('bind 127.0.0.3') && moved.includes('cluster-announce-ip 127.0.0.3'), moved.join('\n'));
    const bridge = lines({ ...base, bindHost: '0.0.0.0', announceIp: '172.18.0.5' });
    assert.ok(bridge.includes('bind 0.0.0.0') && bridge.includes('cluster-announce-ip 172.18.0.5'), bridge.join('\n'));
    assert.ok(!lines(base).some((l) => l.startsWith('cluster-announce-hostname') || l.startsWith('cluster-preferred-endpoint-type')));
    const named = lines({ ...base, announceHostname: 'node-0.redis.slotwise.test' });
    assert.ok(named.includes('cluster-announce-hostname "node-0.redis.slotwise.test"'), named.join('\n'));
    assert.ok(named.includes('cluster-preferred-endpoint-type hostname'));
  });

  it('renders requirepass or an ACL user, quoted', () => {
    const base = { port: 7000, busPort: 17_000, dir: '/tmp/slotwise-x', nodeTimeoutMs: 2000, appendOnly: true };
    const pw = renderRedisConf({ ...base, auth: { password: 'p"w\\' } });
    assert.match(pw, /^requirepass "p\\"w\\\\"$/m);
    assert.match(pw, /^masterauth /m);
    const acl = renderRedisConf({ ...base, auth: { username: 'app', password: 's3cret' } });
    assert.match(acl, /^user default off$/m);
    assert.match(acl, /^user "app" on ">s3cret" ~\* &\* \+@all$/m);
    assert.match(acl, /^masteruser "app"$/m);
  });
});
