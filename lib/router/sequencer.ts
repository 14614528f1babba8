/** What the sequencer needs of a request: its slot and its place in the group. */
export interface Sequenced {
  readonly slot: number;
  /** Position in its group, from `nextIndex()`. */
  readonly seqIndex: number;
}

/**
 * Keeps the caller's order per slot inside one group of requests (a
 * pipeline). A request of the group may be written to a node only while no
 * EARLIER request of the same slot is waiting to be (re)written — parked for
 * a backoff, or itself held here. A held request is written as soon as the
 * requests before it are written or settled.
 *
 * So every attempt of a slot's requests leaves in the caller's order: first
 * attempts (one socket write per node and tick), and retries after
 * MOVED/ASK/TRYAGAIN/connection loss, which the executor's independent retry
 * loops (each with its own jittered backoff) would otherwise reorder.
 * Requests without a slot (keyless, pinned to a node) are not sequenced.
 */
export class SlotSequencer<Request extends Sequenced> {
  readonly #resume: (req: Request) => void;
  /** Per slot: requests of the group that wait to be (re)written. */
  readonly #waiting = new Map<number, Set<Request>>();
  /** Per slot: waiting requests held back by an earlier one, ascending by index. */
  readonly #held = new Map<number, Request[]>();
  readonly #releasing = new Set<number>();
  #next = 0;

  /** `resume` re-enters the executor's attempt for a released request. */
  constructor(resume: (req: Request) => void) {
    this.#resume = resume;
  }

  /** The position of the next request added to the group. */
  nextIndex(): number {
    return this.#next++;
  }

  /**
   * May `req` be written now? When not, it is held and re-attempted (through
   * `resume`) once every earlier request of its slot has left the waiting state.
   */
  admit(req: Request): boolean {
    const waiting = this.#waiting.get(req.slot);
    if (waiting === undefined || !this.#blocked(req, waiting)) return true;
    waiting.add(req);
    let held = this.#held.get(req.slot);
    if (held === undefined) this.#held.set(req.slot, (held = []));
    if (!held.includes(req)) {
      let i = held.length;
      while (i > 0 && held[i - 1]!.seqIndex > req.seqIndex) i--;
      held.splice(i, 0, req);
    }
    return false;
  }

  /** `req` waits (a backoff) before its next attempt. */
  waiting(req: Request): void {
    let waiting = this.#waiting.get(req.slot);
    if (waiting === undefined) this.#waiting.set(req.slot, (waiting = new Set()));
    waiting.add(req);
  }

  /** `req` was written or settled: requests held behind it may go. */
  left(req: Request): void {
    const waiting = this.#waiting.get(req.slot);
    if (waiting === undefined || !waiting.delete(req)) return;
    const held = this.#held.get(req.slot);
    const at = held?.indexOf(req) ?? -1;
    if (at !== -1) held!.splice(at, 1);
    if (waiting.size === 0) this.#waiting.delete(req.slot);
    this.#release(req.slot);
  }

  #blocked(req: Request, waiting: ReadonlySet<Request>): boolean {
    for (const other of waiting) if (other !== req && other.seqIndex < req.seqIndex) return true;
    return false;
  }

  #release(slot: number): void {
    // Resuming one request may settle or write it synchronously, which calls
    // back into left(): the outer loop picks those changes up.
    if (this.#releasing.has(slot)) return;
    this.#releasing.add(slot);
    try {
      for (;;) {
        const held = this.#held.get(slot);
        const first = held?.[0];
        if (first === undefined) {
          this.#held.delete(slot);
          return;
        }
        const waiting = this.#waiting.get(slot);
        if (waiting !== undefined && this.#blocked(first, waiting)) return;
        held!.shift();
        waiting?.delete(first);
        if (waiting?.size === 0) this.#waiting.delete(slot);
        this.#resume(first);
      }
    } finally {
      this.#releasing.delete(slot);
    }
  }
}
