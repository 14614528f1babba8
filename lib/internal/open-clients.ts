/**
 * Clients constructed and not yet closed, for leak checks in tests (ours and
 * our users'). Internal: not exported from the package index.
 */
export interface Closable {
  readonly status: string;
  disconnect(): Promise<void>;
}

const open = new Set<Closable>();

export function trackClient(c: Closable): void {
  open.add(c);
}

export function untrackClient(c: Closable): void {
  open.delete(c);
}

/** Clients that were neither quit() nor disconnect()ed. */
export function openClients(): Closable[] {
  return [...open];
}
