import type { RedirectInfo, Request } from './request.js';

/**
 * How the executor reports on commands (tracing, metrics, diagnostics),
 * implemented above the router (lib/telemetry). `observe()` is read once per
 * command; when it is false the command carries no telemetry at all and
 * only the slow-path calls (`redirect`, `wait`) reach the observer.
 */
export interface CommandObserver {
  /** Whether to observe a command accepted now. */
  observe(): boolean;
  /** An observed command was accepted; call `begin` (its first attempt) synchronously, in the caller's context. */
  start(req: Request, begin: () => void): void;
  /** A command followed a MOVED/ASK (every command, observed or not). */
  redirect(req: Request, info: RedirectInfo): void;
  /** A command waits (backoff) before a retry; `reason` names the last error (every command). */
  wait(req: Request, reason: string): void;
  /** An observed command settled. */
  settled(req: Request, error: Error | undefined): void;
}
