/** Generated cases per fuzz area, summed over the fuzz suites of one run. */
class CaseCount {
  readonly #by = new Map<string, number>();

  add(area: string, n: number): void {
    this.#by.set(area, (this.#by.get(area) ?? 0) + n);
  }

  get total(): number {
    let t = 0;
    for (const n of this.#by.values()) t += n;
    return t;
  }

  report(): string {
    return [...this.#by].map(([a, n]) => `${a}: ${n}`).join('; ');
  }
}

export const fuzzCases = new CaseCount();
