export { SessionStore, type CreateOptions, type SessionData, type SessionEntry, type SessionStoreEvents, type WriteOptions } from './session-store.js';
export { SESSION_DEFAULTS, type ResolvedSessionOptions, type SessionStoreOptions } from './options.js';
export { SessionKeys } from './keys.js';
export type { SweepResult } from './user-index.js';
export type { WatchExpiryOptions } from './expiry-events.js';
