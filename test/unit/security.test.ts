import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerRedisNode } from '../../testcontainers/docker-node.js';
import { removeDirSync, untrackDir } from '../../testcontainers/process-registry.js';
import { InvalidArgumentError } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options.js';
import { authFailureReason, tlsFailureReason } from '../../lib/core/classify.js';
import { renderRedisConf } from '../../testcontainers/node-process.js';
import { generateTlsMaterial, RedisClusterContainer, writeTlsMaterial } from '../../testcontainers/index.js';

describe('security options and classification (unit)', function () {
  it('credentialsProvider must be a function and excludes username/password; tls may be a function', () => {
    const rootNodes = ['127.0.0.1:7000'];
    const provider = async () => ({ password: 'p' });
    assert.equal(resolveOptions({ rootNodes, credentialsProvider: provider }).credentialsProvider, provider);
    assert.throws(() => resolveOptions({ rootNodes, credentialsProvider: 'secret' as never }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'credentialsProvider');
    assert.throws(
      () => resolveOptions({ rootNodes, credentialsProvider: provider, password: 'hunter2' }),
      (e: unknown) => e instanceof InvalidArgumentError && /either credentialsProvider or username\/password/.test(e.message) && !e.message.includes('hunter2'),
    );
    const tls = () => ({ ca: 'x' });
    assert.equal(resolveOptions({ rootNodes, tls }).tls, tls);
    assert.throws(() => resolveOptions({ rootNodes, tls: 42 as never }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'tls');
  });

  it('classifies TLS refusals and login refusals; plain socket errors are neither', () => {
    const alert = Object.assign(new Error('ssl3_read_bytes:tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', library: 'SSL routines' });
    assert.equal(tlsFailureReason(new Error('wrapped', { cause: alert }))?.reason, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.equal(tlsFailureReason(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))?.reason, 'SELF_SIGNED_CERT_IN_CHAIN');
    assert.equal(tlsFailureReason(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), undefined);
    assert.equal(authFailureReason(new Error('WRONGPASS invalid username-password pair or user is disabled.')), 'WRONGPASS');
    assert.equal(authFailureReason(new Error('x', { cause: new Error('NOAUTH Authentication required.') })), 'NOAUTH');
    assert.equal(authFailureReason(new Error('ERR unknown command')), undefined);
  });

  it('renders TLS-only nodes: port 0, tls-port, TLS on bus and replication, client auth per mutual', () => {
    const base = { port: 7000, busPort: 17_000, dir: '/tmp/slotwise-x', nodeTimeoutMs: 2000, appendOnly: false };
    const tls = { certFile: '/t/node.crt', keyFile: '/t/node.key', caFile: '/t/ca.crt' };
    const mutual = renderRedisConf({ ...base, tls: { ...tls, mutual: true } });
    for (const line of ['port 0', 'tls-port 7000', 'tls-cert-file "/t/node.crt"', 'tls-key-file "/t/node.key"', 'tls-ca-cert-file "/t/ca.crt"', 'tls-cluster yes', 'tls-replication yes', 'tls-auth-clients yes']) {
      assert.ok(mutual.split('\n').includes(line), `${line} in\n${mutual}`);
    }
    assert.ok(!mutual.includes('port 7000\n') || mutual.includes('tls-port 7000\n'));
    assert.match(renderRedisConf({ ...base, tls: { ...tls, mutual: false } }), /^tls-auth-clients no$/m);
    assert.match(renderRedisConf(base), /^port 7000$/m);
  });

  it('generates a CA, a node certificate for the loopback names (server + client auth) and a client certificate it signed', async () => {
    const m = await generateTlsMaterial({ hosts: ['127.0.0.1', 'redis-0.redis'] });
    const ca = new X509Certificate(m.ca);
    const node = new X509Certificate(m.nodeCert);
    const client = new X509Certificate(m.clientCert);
    assert.ok(ca.ca);
    assert.ok(node.verify(ca.publicKey) && client.verify(ca.publicKey));
    assert.equal(node.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(node.checkHost('redis-0.redis'), 'redis-0.redis');
    assert.equal(node.checkHost('other.example'), undefined);
    assert.deepEqual(node.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.match(m.nodeKey, /^-----BEGIN PRIVATE KEY-----/);
    const other = await generateTlsMaterial();
    assert.equal(new X509Certificate(other.clientCert).verify(ca.publicKey), false);
  });

  it('a container node gets the TLS files in its mounted data dir and a redis.conf naming them by container path (no runtime needed)', async () => {
    const files = writeTlsMaterial(await generateTlsMaterial());
    const node = new DockerRedisNode(
      {
        bin: '', ports: { port: 1, busPort: 10_001 }, nodeTimeoutMs: 2000, appendOnly: false, startupTimeoutMs: 1000,
        tls: { certFile: files.nodeCertFile, keyFile: files.nodeKeyFile, caFile: files.caFile, mutual: true },
      },
      'redis:7.2',
      { mode: 'host' },
    );
    try {
      const conf = readFileSync(join(node.dir, 'redis.conf'), 'utf8');
      for (const line of ['port 0', 'tls-port 1', 'tls-cert-file "/data/tls-node.crt"', 'tls-key-file "/data/tls-node.key"', 'tls-ca-cert-file "/data/tls-ca.crt"', 'tls-auth-clients yes']) {
        assert.ok(conf.split('\n').includes(line), `${line} in\n${conf}`);
      }
      assert.equal(readFileSync(join(node.dir, 'tls-node.crt'), 'utf8'), readFileSync(files.nodeCertFile, 'utf8'));
      assert.ok(existsSync(join(node.dir, 'tls-node.key')) && existsSync(join(node.dir, 'tls-ca.crt')));
    } finally {
      await node.destroy();
      removeDirSync(files.dir);
      untrackDir(files.dir);
    }
  });

  it('withTls() rejects bad options', () => {
    assert.throws(() => new RedisClusterContainer().withTls({ mutual: 'yes' as never }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'tls.mutual');
    assert.throws(() => new RedisClusterContainer().withTls({ hosts: ['bad host'] }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'tls.hosts');
  });
});
