/**
 * Trace continuity through the work queue: a job added under a caller's
 * span is processed by a worker in ANOTHER PROCESS (its own OTel SDK) in a
 * CONSUMER span of the same trace, child of the producer's `send` span.
 * Shared cluster.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { ClusterClient, WorkQueue } from '../../../lib/index.js';
import { spawnFixture, type Child } from '../../helpers/children.js';
import { sharedCluster } from '../../helpers/cluster.js';
import { installOtel, type TestOtel } from '../../helpers/otel.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'traced-queue-worker.ts');

describe('telemetry: queue trace continuity (integration)', function () {
  this.timeout(60_000);
  let otel: TestOtel;
  let client: ClusterClient;
  let child: Child | undefined;

  before(async () => {
    const cluster = await sharedCluster();
    otel = installOtel();
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect();
  });
  after(async () => {
    if (child !== undefined && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    await client?.quit();
    await otel?.uninstall();
  });

  it('add() under a span → the job handler in another process runs in the same trace', async () => {
    const cluster = await sharedCluster();
    const name = `traced-${Date.now()}`;
    child = spawnFixture(FIXTURE, { rootNodes: cluster.getRootNodes(), queue: name });
    await child.next('ready');
    const queue = new WorkQueue<{ n: number }>(client, name);
    let caller!: { traceId: string; spanId: string };
    await trace.getTracer('test').startActiveSpan('http-request', async (span) => {
      caller = span.spanContext();
      await queue.add({ n: 42 });
      span.end();
    });
    const processed = await child.next('processed') as {
      data: unknown;
      handler: { traceId: string; spanId: string };
      consumers: Array<{ kind: number; traceId: string; spanId: string; parent: string; attributes: Record<string, unknown> }>;
    };
    assert.equal(await child.exited, 0, child.stderr());
    await queue.close();

    assert.deepEqual(processed.data, { n: 42 }, 'the payload arrives unchanged');
    const producer = otel.spans().find((s) => s.name === `send ${name}`);
    assert.equal(producer?.kind, SpanKind.PRODUCER);
    assert.equal(producer.parentSpanContext?.spanId, caller.spanId, 'the send span is a child of the caller');
    assert.equal(processed.consumers.length, 1);
    const consumer = processed.consumers[0]!;
    assert.equal(consumer.kind, SpanKind.CONSUMER);
    assert.equal(consumer.traceId, caller.traceId, 'same trace across the process boundary');
    assert.equal(consumer.parent, producer.spanContext().spanId, 'the process span continues the send span');
    assert.equal(consumer.attributes['messaging.destination.name'], name);
    assert.equal(processed.handler.spanId, consumer.spanId, 'the handler runs inside the process span');
  });
});
