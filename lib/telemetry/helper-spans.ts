import { loadOtelApi, tracerActive } from './otel.js';

/** An open span of a helper (lock wait, lock hold); `end` records a failure when given one. */
export interface HelperSpan {
  end(error?: unknown): void;
  /** Runs `fn` with this span active (the commands it sends become its children). */
  within<T>(fn: () => T): T;
}

/**
 * An INTERNAL span for helper work, child of the caller's active span —
 * undefined (and nothing loaded beyond the lazy API lookup) when `enabled`
 * is off, the API is not installed or no SDK is registered. Attributes must
 * never carry key names, values or arguments.
 */
export function helperSpan(enabled: boolean, name: string, attributes: Record<string, string | number | boolean>): HelperSpan | undefined {
  if (!enabled) return undefined;
  const api = loadOtelApi();
  if (api === undefined || !tracerActive(api)) return undefined;
  const span = api.trace.getTracer('slotwise').startSpan(name, { kind: api.SpanKind.INTERNAL, attributes }, api.context.active());
  return {
    end(error?: unknown) {
      if (error !== undefined) {
        const code = error instanceof Error ? ((error as { code?: unknown }).code ?? error.name) : 'Error';
        span.setAttribute('error.type', String(code));
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(code) });
      }
      span.end();
    },
    within: (fn) => api.context.with(api.trace.setSpan(api.context.active(), span), fn),
  };
}
