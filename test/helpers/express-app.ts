/**
 * A small real express 5 app using express-session with SlotwiseSessionStore,
 * listening on 127.0.0.1:0, plus an HTTP client that keeps its own cookie.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import session from 'express-session';
import type { SlotwiseSessionStore } from '../../lib/session/express-session.js';

declare module 'express-session' {
  interface SessionData {
    userId?: string;
    views?: number;
    cart?: string[];
    theme?: string;
    [attribute: string]: unknown;
  }
}

/** A point a request waits at until the test releases it. */
export class Gate {
  readonly reached: Promise<void>;
  readonly #reach: () => void;
  #release!: () => void;
  readonly #released: Promise<void>;
  constructor() {
    let reach!: () => void;
    this.reached = new Promise((r) => (reach = r));
    this.#reach = reach;
    this.#released = new Promise((r) => (this.#release = r));
  }
  wait(): Promise<void> {
    this.#reach();
    return this.#released;
  }
  release(): void {
    this.#release();
  }
}

export interface TestApp {
  readonly url: string;
  readonly gates: Map<string, Gate>;
  close(): Promise<void>;
}

export async function startApp(store: SlotwiseSessionStore): Promise<TestApp> {
  const gates = new Map<string, Gate>();
  const app = express();
  app.use(express.json());
  app.use(session({ store, secret: 'test secret', name: 'sid', resave: false, saveUninitialized: false, cookie: { maxAge: 60_000 } }));

  app.post('/login', (req, res, next) => {
    // A new id at login (session fixation): express-session destroys the old one.
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = String(req.body.user);
      req.session.views = 0;
      res.json({ sid: req.sessionID });
    });
  });
  app.get('/me', (req, res) => {
    if (req.session.userId !== undefined) req.session.views = (req.session.views ?? 0) + 1;
    res.json({ sid: req.sessionID, userId: req.session.userId ?? null, views: req.session.views ?? null, cart: req.session.cart ?? [], theme: req.session.theme ?? null });
  });
  app.get('/peek', (req, res) => {
    // Reads without modifying: express-session only touches the session.
    res.json({ userId: req.session.userId ?? null });
  });
  app.post('/cart', (req, res) => {
    req.session.cart = [...(req.session.cart ?? []), String(req.body.item)];
    res.json({ cart: req.session.cart });
  });
  app.post('/theme', (req, res) => {
    req.session.theme = String(req.body.theme);
    res.json({ theme: req.session.theme });
  });
  app.post('/slow/:gate', async (req, res) => {
    // A request that loaded the session and then takes its time (a slow upstream call).
    const gate = gates.get(req.params.gate);
    if (gate) await gate.wait();
    req.session[String(req.body.attribute)] = req.body.value;
    res.json({ ok: true });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gates,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** One browser: keeps the `sid` cookie between requests. */
export class Browser {
  cookie: string | undefined;
  readonly #base: string;
  constructor(base: string) {
    this.#base = base;
  }

  async request<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.#base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';', 1)[0]!;
      if (pair.startsWith('sid=')) this.cookie = pair;
    }
    return { status: res.status, body: (await res.json()) as T };
  }
}
