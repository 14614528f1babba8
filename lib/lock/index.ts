export { Mutex, type MutexOptions } from './mutex.js';
export { LeaseLock, type LockEvents } from './base.js';
export { LockHandle, type LockHandleEvents } from './handle.js';
export { fenced, fencedSet, fenceKeyOf, FencedScript, type FencedScriptDefinition, type FencedSetArgs, type FencedSetOptions } from './fencing.js';
export { LEASE_DEFAULTS, type AcquireOptions, type LeaseOptions } from './options.js';
export { Semaphore, type SemaphoreOptions } from './semaphore.js';
export { ReadWriteLock, ReadWriteSide, type ReadWriteLockOptions } from './rwlock.js';
export { CountDownLatch, type CountDownLatchOptions } from './latch.js';
export { Redlock, RedlockHandle, type RedlockOptions } from './redlock.js';
