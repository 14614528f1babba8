import { RedisClusterContainer, generateTlsMaterial } from './testcontainers/index.js';
import { ClusterClient } from './lib/index.js';
const c = await new RedisClusterContainer().withMasters(1).withReplicasPerMaster(0).withTls({ mutual: true }).start();
try {
  const t = c.getTlsOptions()!;
  const other = await generateTlsMaterial({ caName: 'other' });
  const cases: Record<string, any> = {
    ok: t,
    nocert: { ca: t.ca },
    otherCA: { ca: t.ca, cert: other.clientCert, key: other.clientKey },
    unknownServerCA: { ca: other.ca, cert: t.cert, key: t.key },
    wrongName: { ...t, servername: 'wrong.example' },
  };
  for (const [name, tls] of Object.entries(cases)) {
    const client = new ClusterClient({ rootNodes: c.getRootNodes(), tls });
    const t0 = Date.now();
    try { await client.connect(); console.log(name, 'OK', await client.set('a', 'b')); }
    catch (e: any) { console.log(name, Date.now() - t0, 'ms', e.name, e.code, e.reason, e.message); }
    await client.quit().catch(()=>{});
  }
} finally { await c.stop(); }
