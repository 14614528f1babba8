/**
 * A source of live client settings (a "configuration centre"): a JSON object
 * of option names and values, pushed whenever it changes. Give one to
 * `new ClusterClient({ config })`; {@link watchConfig} builds one on a znode.
 */
export interface ConfigSource {
  /** A short name for errors, e.g. `zookeeper:/slotwise/orders/config`. */
  readonly name: string;
  /**
   * Calls `onDocument` with the current document and after each change,
   * `onError` when the stored text is not a JSON object. Returns a function
   * that stops watching.
   */
  watch(onDocument: (doc: Readonly<Record<string, unknown>>) => void, onError: (err: Error) => void): () => void;
}
