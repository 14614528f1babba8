import type { Attributes, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { ATTR, errorType, replyStatus, SCOPE, type OtelApi } from './otel.js';

/** Where a span's command ran. */
export interface SpanTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * CLIENT spans per the OTel database semantic conventions, through the
 * global tracer provider. `active` is one field read per command: with no
 * SDK registered the provider's delegate is the no-op one and no span is made.
 */
export class OtelTracing {
  readonly #api: OtelApi;
  readonly #proxy: TracerProvider & { getDelegate?(): TracerProvider };
  readonly #noop: TracerProvider;
  readonly #tracer: Tracer;

  constructor(api: OtelApi) {
    this.#api = api;
    this.#proxy = api.trace.getTracerProvider();
    // A fresh proxy without a delegate hands out the API's no-op provider.
    this.#noop = new api.ProxyTracerProvider().getDelegate();
    this.#tracer = this.#proxy.getTracer(SCOPE);
  }

  /** True once an SDK registered a tracer provider (checked per command, cheaply). */
  get active(): boolean {
    return this.#proxy.getDelegate === undefined || this.#proxy.getDelegate() !== this.#noop;
  }

  /** A CLIENT span for one command (or batch), child of the caller's active span. */
  start(name: string, attributes: Attributes): Span {
    const api = this.#api;
    return this.#tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, api.context.active());
  }

  /** Ends a span: the node it ran on, and the error per the recording-errors convention. */
  end(span: Span, target: SpanTarget | undefined, error: unknown, extra?: Attributes): void {
    if (target !== undefined) {
      span.setAttribute(ATTR.serverAddress, target.host);
      span.setAttribute(ATTR.serverPort, target.port);
    }
    if (extra !== undefined) span.setAttributes(extra);
    if (error !== undefined) {
      span.setAttribute(ATTR.errorType, errorType(error));
      const status = replyStatus(error);
      if (status !== undefined) span.setAttribute(ATTR.statusCode, status);
      // The code, not the message: a message may quote a server's reply text.
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: errorType(error) });
    }
    span.end();
  }

  /** Runs `fn` with `span` as the active span (for spans of work done inside it). */
  within<T>(span: Span, fn: () => T): T {
    const api = this.#api;
    return api.context.with(api.trace.setSpan(api.context.active(), span), fn);
  }

  /** W3C trace context of the active span, to carry in a job; undefined when there is none. */
  inject(): Record<string, string> | undefined {
    const api = this.#api;
    if (api.trace.getSpan(api.context.active()) === undefined) return undefined;
    const carrier: Record<string, string> = {};
    api.propagation.inject(api.context.active(), carrier);
    return Object.keys(carrier).length === 0 ? undefined : carrier;
  }
}
