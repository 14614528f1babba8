/**
 * deploy/kubernetes/: every object passes the Kubernetes API schemas
 * (kubernetes-models' validators, offline), and the pieces fit each other —
 * the things a schema cannot see and a cluster would only show at 3 a.m.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { resolveOptions } from '../../lib/options.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'kubernetes');

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function load(): Array<{ file: string; obj: Obj }> {
  const out: Array<{ file: string; obj: Obj }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      out.push({ file, obj: doc.toJS() as Obj });
    }
  }
  return out;
}

function validate(obj: Obj): void {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  assert.ok(Model, `${obj.apiVersion} ${obj.kind} has no validator here; add it to MODELS`);
  new Model(obj as never).validate();
}

/** Manifests are free-form JSON here; the schema test above holds their shape. */
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('deploy/kubernetes manifests', () => {
  const objects = load();
  const find = (kind: string, name: string): Any => {
    const o = objects.find((x) => x.obj.kind === kind && x.obj.metadata.name === name)?.obj;
    assert.ok(o, `${kind} ${name} exists`);
    return o;
  };

  it('every object passes the Kubernetes API schema', () => {
    assert.ok(objects.length >= 8, `found ${objects.length} objects`);
    for (const { file, obj } of objects) {
      try {
        validate(obj);
      } catch (err) {
        assert.fail(`${file}: ${obj.kind} ${obj.metadata.name}: ${(err as Error).message}`);
      }
    }
  });

  it('the validator does reject a broken object (wrong type, missing required field)', () => {
    const sts = structuredClone(find('StatefulSet', 'redis-cluster'));
    sts.spec.replicas = 'six';
    assert.throws(() => validate(sts), /replicas must be integer/);
    const job = structuredClone(find('Job', 'redis-cluster-create'));
    delete job.spec.template.spec.containers[0].name;
    assert.throws(() => validate(job), /name/);
  });

  it('the StatefulSet, its headless Service, PDB and Job fit together', () => {
    const sts = find('StatefulSet', 'redis-cluster');
    const svc = find('Service', 'redis-cluster');
    const pdb = find('PodDisruptionBudget', 'redis-cluster');
    const job = find('Job', 'redis-cluster-create');
    const podLabels = sts.spec.template.metadata.labels;
    assert.deepEqual(sts.spec.selector.matchLabels, podLabels);
    // Stable per-pod DNS names come from a headless Service named in serviceName.
    assert.equal(sts.spec.serviceName, svc.metadata.name);
    assert.equal(svc.spec.clusterIP, 'None');
    assert.equal(svc.spec.publishNotReadyAddresses, true, 'nodes must resolve each other before they are ready');
    assert.deepEqual(svc.spec.selector, podLabels);
    assert.deepEqual(pdb.spec.selector.matchLabels, podLabels);
    assert.equal(pdb.spec.maxUnavailable, 1);
    assert.deepEqual(svc.spec.ports.map((p: Any) => p.port).sort(), [16379, 6379]);

    const redis = sts.spec.template.spec.containers[0];
    const args = redis.args.join(' ');
    assert.match(args, /--cluster-announce-hostname \$\(POD_NAME\)\.redis-cluster\.\$\(POD_NAMESPACE\)\.svc\.cluster\.local/);
    assert.match(args, /--cluster-announce-ip \$\(POD_IP\)/);
    const envs = new Set(redis.env.map((e: Any) => e.name));
    for (const v of ['POD_IP', 'POD_NAME', 'POD_NAMESPACE']) assert.ok(envs.has(v), `${v} is defined for $(${v})`);
    assert.match(redis.readinessProbe.exec.command.join(' '), /cluster info \| grep -q '\^cluster_state:ok'/);
    const mounts = redis.volumeMounts.map((m: Any) => m.name);
    assert.ok(sts.spec.volumeClaimTemplates.some((c: Any) => c.metadata.name === 'data' && mounts.includes('data')), 'data on a per-pod volume');
    const tls = sts.spec.template.spec.volumes.find((v: Any) => v.name === 'tls');
    assert.equal(tls.secret.optional, true, 'the TLS secret is optional');
    assert.equal(tls.secret.secretName, find('Secret', 'redis-cluster-tls').metadata.name);

    const conf: string = find('ConfigMap', 'redis-cluster-config').data['redis.conf'];
    assert.match(conf, /^cluster-preferred-endpoint-type hostname$/m);
    assert.match(conf, /^cluster-config-file \/data\/nodes\.conf$/m, 'node id on the volume');
    assert.match(conf, /^cluster-node-timeout \d+$/m);
    assert.match(conf, /^cluster-replica-validity-factor \d+$/m);

    const script = job.spec.template.spec.containers[0].args.join('\n');
    assert.equal(Number(job.spec.template.spec.containers[0].env.find((e: Any) => e.name === 'REPLICAS').value), sts.spec.replicas);
    assert.match(script, /redis-cluster-\$i\.\$SERVICE\.\$POD_NAMESPACE\.svc\.cluster\.local/);
    assert.match(script, /--cluster-replicas 1/);
  });

  it('the example service hands slotwise valid options pointing at the cluster pods', () => {
    const cm = find('ConfigMap', 'orders-api-redis');
    const sts = find('StatefulSet', 'redis-cluster');
    const rootNodes = String(cm.data.SLOTWISE_ROOT_NODES).split(',');
    const options = resolveOptions({
      rootNodes,
      commandTimeoutMs: Number(cm.data.SLOTWISE_COMMAND_TIMEOUT_MS),
      connectTimeoutMs: Number(cm.data.SLOTWISE_CONNECT_TIMEOUT_MS),
    });
    for (const n of options.rootNodes) {
      assert.match(n.host, new RegExp(`^${sts.metadata.name}-[0-${sts.spec.replicas - 1}]\\.${sts.spec.serviceName}$`));
      assert.equal(n.port, 6379);
    }
    const timeout = Number(/^cluster-node-timeout (\d+)$/m.exec(find('ConfigMap', 'redis-cluster-config').data['redis.conf'])![1]);
    assert.ok(options.commandTimeoutMs > timeout, 'a command outlives a failover (node timeout + election)');
    const deploy = find('Deployment', 'orders-api');
    assert.equal(deploy.spec.template.spec.containers[0].envFrom[0].configMapRef.name, cm.metadata.name);
  });
});
