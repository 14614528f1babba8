import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

/** The `@opentelemetry/api` module (an optional peer dependency). */
export type OtelApi = typeof Api;

let loaded: OtelApi | null | undefined;

/**
 * `@opentelemetry/api` when the application installed it, else undefined.
 * Required on first call only (at connect), never at import: without the
 * package nothing is loaded and nothing is paid.
 */
export function loadOtelApi(): OtelApi | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** The instrumentation scope name of every tracer and meter of slotwise. */
export const SCOPE = 'slotwise';

/** Semantic-convention attribute names used by slotwise (OTel database conventions). */
export const ATTR = {
  system: 'db.system.name',
  operation: 'db.operation.name',
  namespace: 'db.namespace',
  batchSize: 'db.operation.batch.size',
  statusCode: 'db.response.status_code',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

/** `error.type` of a failure: the stable slotwise code, else the error's name. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : error.name;
  }
  return 'Error';
}

/** The Redis error prefix of a reply error (`WRONGTYPE`), for `db.response.status_code`. */
export function replyStatus(error: unknown): string | undefined {
  const prefix = error instanceof Error ? (error as { prefix?: unknown }).prefix : undefined;
  return typeof prefix === 'string' && prefix !== '' ? prefix : undefined;
}

/** True when an SDK registered a tracer provider (the global proxy has a real delegate). */
export function tracerActive(api: OtelApi): boolean {
  const provider = api.trace.getTracerProvider() as { getDelegate?(): unknown };
  return provider.getDelegate === undefined || provider.getDelegate() !== new api.ProxyTracerProvider().getDelegate();
}

/** The metrics API has no proxy provider: without an SDK it hands out no-op meters. */
export function isNoopMeter(api: OtelApi): boolean {
  return api.metrics.getMeter(SCOPE).constructor === api.createNoopMeter().constructor;
}
