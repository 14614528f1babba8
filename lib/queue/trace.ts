/**
 * Trace continuity through the queue: `add()` runs in a PRODUCER span
 * (`send <queue>`) whose W3C trace context travels inside each job, and the
 * worker — in any process — runs the handler in a CONSUMER span
 * (`process <queue>`) that continues that trace. Only with
 * `@opentelemetry/api` installed, an SDK registered and the client's
 * `telemetry.tracing` on; otherwise jobs are stored exactly as before.
 *
 * The context rides in the stored payload behind a marker made of ASCII
 * control characters (no serializer's text starts with it), so it survives
 * every path a job takes (delay, retry, reclaim, dead letters) unchanged.
 */
import type { Context } from '@opentelemetry/api';
import { loadOtelApi, tracerActive, type OtelApi } from '../telemetry/otel.js';

const MARK = '\u001eslotwise-trace\u001f';
const END = '\u001e';
const SCOPE = 'slotwise';

/** The stored payload: `data` behind the trace context, when there is one. */
export function wrapTrace(data: string, carrier: Record<string, string> | undefined): string {
  if (carrier === undefined || carrier.traceparent === undefined) return data;
  return `${MARK}${carrier.traceparent}\u001f${carrier.tracestate ?? ''}${END}${data}`;
}

/** Splits a stored payload into the serializer's text and the trace context it carried. */
export function unwrapTrace(stored: string): { readonly data: string; readonly carrier?: Record<string, string> } {
  if (!stored.startsWith(MARK)) return { data: stored };
  const end = stored.indexOf(END, MARK.length);
  if (end < 0) return { data: stored };
  const [traceparent = '', tracestate = ''] = stored.slice(MARK.length, end).split('\u001f');
  return { data: stored.slice(end + 1), carrier: tracestate === '' ? { traceparent } : { traceparent, tracestate } };
}

function activeApi(enabled: boolean): OtelApi | undefined {
  if (!enabled) return undefined;
  const api = loadOtelApi();
  return api !== undefined && tracerActive(api) ? api : undefined;
}

/**
 * Runs an `add()`/`addBulk()` of `count` jobs in a PRODUCER span; `fn` gets
 * the W3C trace context to store in each job (undefined when not tracing).
 */
export async function traceAdd<R>(enabled: boolean, queue: string, count: number, fn: (carrier: Record<string, string> | undefined) => Promise<R>): Promise<R> {
  const api = activeApi(enabled);
  if (api === undefined) return fn(undefined);
  const span = api.trace.getTracer(SCOPE).startSpan(`send ${queue}`, {
    kind: api.SpanKind.PRODUCER,
    attributes: { 'messaging.system': 'slotwise', 'messaging.operation.type': 'send', 'messaging.operation.name': 'send', 'messaging.destination.name': queue, 'messaging.batch.message_count': count },
  }, api.context.active());
  const ctx = api.trace.setSpan(api.context.active(), span);
  const carrier: Record<string, string> = {};
  api.propagation.inject(ctx, carrier);
  try {
    return await api.context.with(ctx, () => fn(carrier));
  } catch (err) {
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error).name });
    throw err;
  } finally {
    span.end();
  }
}

/** Runs a job's handler in a CONSUMER span continuing the trace the job carried. */
export async function traceProcess<R>(enabled: boolean, queue: string, job: { readonly id: string; readonly attempt: number }, carrier: Record<string, string> | undefined, fn: () => Promise<R>): Promise<R> {
  const api = activeApi(enabled);
  if (api === undefined) return fn();
  const parent: Context = carrier === undefined ? api.context.active() : api.propagation.extract(api.context.active(), carrier);
  const span = api.trace.getTracer(SCOPE).startSpan(`process ${queue}`, {
    kind: api.SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'slotwise', 'messaging.operation.type': 'process', 'messaging.operation.name': 'process',
      'messaging.destination.name': queue, 'messaging.message.id': job.id, 'slotwise.job.attempt': job.attempt,
    },
  }, parent);
  try {
    return await api.context.with(api.trace.setSpan(parent, span), fn);
  } catch (err) {
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error).name });
    throw err;
  } finally {
    span.end();
  }
}
