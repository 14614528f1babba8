/**
 * An express app with server-side sessions on a Redis Cluster: login (with a
 * new session id, which prevents session fixation), a page that counts
 * visits, logout (the session is gone for good, even for a request still in
 * flight), and "log out everywhere" through the per-user index.
 *
 *   npx tsx examples/express-sessions/app.ts      (PORT=3000 SLOTWISE_ROOT_NODES=127.0.0.1:7000)
 */
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import express from 'express';
import session from 'express-session';
import { ClusterClient } from 'slotwise';
import { SlotwiseSessionStore } from 'slotwise/express-session';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    visits?: number;
  }
}

export function createApp(client: ClusterClient): express.Express {
  // userId: indexes sessions per user, for destroyByUser() ("log out everywhere").
  const store = new SlotwiseSessionStore({ client, userId: (s) => s.userId });
  const app = express();
  app.use(express.json());
  app.use(session({
    store,
    secret: process.env.SESSION_SECRET ?? 'replace me',
    name: 'sid',
    resave: false, // the store writes only changed attributes anyway
    saveUninitialized: false, // no session (and no Redis write) before login
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 30 * 60_000 },
  }));

  app.post('/login', (req, res, next) => {
    const user = String(req.body?.user ?? '');
    if (!/^[\w-]{1,32}$/.test(user)) {
      res.status(400).json({ error: 'user: 1 to 32 letters, digits, _ or -' });
      return;
    }
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = user;
      req.session.visits = 0;
      res.json({ user });
    });
  });

  app.get('/me', (req, res) => {
    if (req.session.userId === undefined) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.json({ user: req.session.userId, visits: req.session.visits });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.clearCookie('sid').json({ ok: true })));
  });

  app.post('/logout-everywhere', async (req, res) => {
    const user = req.session.userId;
    if (user === undefined) {
      res.status(401).json({ error: 'not logged in' });
      return;
    }
    const destroyed = await store.sessions.destroyByUser(user); // express 5 passes a rejection to the error handler
    res.clearCookie('sid').json({ destroyed });
  });
  return app;
}

/** Listens on 127.0.0.1:`port` (0: any free port). */
export function listen(app: express.Express, port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function main(): Promise<void> {
  const client = new ClusterClient({ rootNodes: (process.env.SLOTWISE_ROOT_NODES ?? '127.0.0.1:7000').split(',') });
  await client.connect();
  const server = await listen(createApp(client), Number(process.env.PORT ?? 3000));
  console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port}`);
  process.once('SIGTERM', () => {
    server.close(() => void client.quit());
    server.closeIdleConnections();
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
