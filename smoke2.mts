import { RedisClusterContainer, generateTlsMaterial } from './testcontainers/index.js';
import tls from 'node:tls';
const c = await new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).withTls({ mutual: true }).start();
try {
  const t = c.getTlsOptions()!;
  const other = await generateTlsMaterial({ caName: 'other' });
  for (const [name, o] of [['ok', t], ['alien', { ca: t.ca, cert: other.clientCert, key: other.clientKey }]] as const) {
    await new Promise<void>((resolve) => {
      const t0 = Date.now();
      const s = tls.connect({ host: '127.0.0.1', port: c.getRootNodes()[0]!.port, ...o });
      s.on('secureConnect', () => console.log(name, 'secureConnect', Date.now() - t0, s.getProtocol()));
      s.on('session', () => console.log(name, 'session ticket', Date.now() - t0));
      s.on('error', (e: any) => { console.log(name, 'error', e.code, Date.now() - t0); });
      s.on('close', () => { console.log(name, 'close'); resolve(); });
      setTimeout(() => s.end(), 300);
    });
  }
} finally { await c.stop(); }
