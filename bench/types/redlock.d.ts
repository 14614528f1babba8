/**
 * redlock 5.0.0-beta.2 ships types that its "exports" map hides from
 * NodeNext resolution; this is the part of its API the locks benchmark uses.
 */
declare module 'redlock' {
  import type { EventEmitter } from 'node:events';
  export interface Settings {
    driftFactor?: number;
    retryCount?: number;
    retryDelay?: number;
    retryJitter?: number;
    automaticExtensionThreshold?: number;
  }
  export interface Lock {
    release(): Promise<unknown>;
    extend(duration: number): Promise<Lock>;
  }
  export default class Redlock extends EventEmitter {
    constructor(clients: Iterable<unknown>, settings?: Settings);
    acquire(resources: string[], duration: number, settings?: Settings): Promise<Lock>;
    quit(): Promise<void>;
  }
}
