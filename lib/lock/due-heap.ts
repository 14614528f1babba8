/**
 * A binary min-heap of (due time, item, version) entries: the watchdog's
 * schedule. Entries are never updated in place; a newer entry for the same
 * item supersedes older ones, which the owner recognises by version and
 * drops (lazy deletion keeps every operation O(log n)).
 */
export class DueHeap<T> {
  #due: number[] = [];
  #items: T[] = [];
  #versions: number[] = [];

  get size(): number {
    return this.#due.length;
  }

  peekDue(): number {
    return this.#due[0] ?? Infinity;
  }

  peekItem(): T | undefined {
    return this.#items[0];
  }

  peekVersion(): number | undefined {
    return this.#versions[0];
  }

  push(due: number, item: T, version: number): void {
    this.#due.push(due);
    this.#items.push(item);
    this.#versions.push(version);
    this.#up(this.#due.length - 1);
  }

  /** Removes the earliest entry. */
  pop(): void {
    const last = this.#due.length - 1;
    if (last < 0) return;
    this.#swap(0, last);
    this.#due.pop();
    this.#items.pop();
    this.#versions.pop();
    if (last > 0) this.#down(0);
  }

  clear(): void {
    this.#due = [];
    this.#items = [];
    this.#versions = [];
  }

  /** Keeps only the entries `keep` accepts and rebuilds the heap: O(n). */
  retain(keep: (item: T, version: number) => boolean): void {
    const due: number[] = [];
    const items: T[] = [];
    const versions: number[] = [];
    for (let i = 0; i < this.#due.length; i++) {
      if (!keep(this.#items[i]!, this.#versions[i]!)) continue;
      due.push(this.#due[i]!);
      items.push(this.#items[i]!);
      versions.push(this.#versions[i]!);
    }
    this.#due = due;
    this.#items = items;
    this.#versions = versions;
    for (let i = (due.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #swap(a: number, b: number): void {
    [this.#due[a], this.#due[b]] = [this.#due[b]!, this.#due[a]!];
    [this.#items[a], this.#items[b]] = [this.#items[b]!, this.#items[a]!];
    [this.#versions[a], this.#versions[b]] = [this.#versions[b]!, this.#versions[a]!];
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#due[parent]! <= this.#due[i]!) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#due.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.#due[l]! < this.#due[min]!) min = l;
      if (r < n && this.#due[r]! < this.#due[min]!) min = r;
      if (min === i) return;
      this.#swap(i, min);
      i = min;
    }
  }
}
