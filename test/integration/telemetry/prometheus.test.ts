/**
 * The documented Prometheus setup, for real: the OpenTelemetry Prometheus
 * exporter serves /metrics on a loopback port, and a scrape shows the
 * client's instruments with the values of the operations run. Shared cluster.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { ClusterClient } from '../../../lib/index.js';
import { sharedCluster } from '../../helpers/cluster.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('telemetry: Prometheus scrape (integration)', function () {
  let exporter: PrometheusExporter;
  let provider: MeterProvider;
  let client: ClusterClient;
  let port: number;

  before(async () => {
    const cluster = await sharedCluster();
    port = await freePort();
    // docs/17-observability.md#prometheus: the exporter is a MetricReader serving /metrics.
    exporter = new PrometheusExporter({ host: '127.0.0.1', port });
    await exporter.startServer();
    provider = new MeterProvider({ readers: [exporter] });
    metrics.setGlobalMeterProvider(provider);
    client = new ClusterClient({ rootNodes: cluster.getRootNodes() });
    await client.connect(); // the meter is taken at connect: register the provider first
  });
  after(async () => {
    await client?.quit();
    await provider?.shutdown();
    metrics.disable();
  });

  it('serves db.client.operation.duration and the slotwise.client.* instruments', async () => {
    const key = `prom:${Date.now()}`;
    for (let i = 0; i < 10; i++) await client.set(key, String(i));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    if (process.env.SHOW_SCRAPE) console.log(text);
    const count = new RegExp(`^db_client_operation_duration_count\\{[^}]*db_operation_name="SET"[^}]*\\} (\\d+)`, 'm').exec(text);
    assert.ok(count, `no SET duration count in the scrape:\n${text.slice(0, 3000)}`);
    assert.equal(Number(count[1]), 10, 'ten SETs, one node');
    assert.match(text, /db_system_name="redis"/);
    assert.match(text, /^slotwise_client_commands_in_flight(_ratio|_total)?\{[^}]*\} 0/m);
    assert.match(text, /^slotwise_client_topology_refreshes(_total)?\{[^}]*slotwise_refresh_reason="connect"/m);
  });
});
