import { CronExpressionParser } from 'cron-parser';
import { describe } from '../core/describe.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * When a repeatable job runs: every `every` ms (ticks at whole multiples of
 * `every` since the Unix epoch, so every process computes the same ticks), or
 * on a cron schedule.
 */
export type RepeatSchedule =
  | {
    /** Interval in ms between ticks (ticks fall on whole multiples of it since the epoch), 100 ms to one year. */
    readonly every: number;
  }
  | {
    /** A cron expression (5 fields, or 6 with seconds first; as `cron-parser` reads it). */
    readonly cron: string;
    /** IANA time zone the cron expression is read in. @default 'UTC' */
    readonly tz?: string;
  };

/** Options of `queue.addRepeatable(key, payload, schedule, options)`. */
export interface RepeatOptions {
  /**
   * What happens to ticks that came due while no process scheduled them
   * (every worker down longer than `lookaheadMs`): `'each'` enqueues every
   * missed tick (they run late, once each); `'once'` enqueues only the latest
   * due tick and skips the earlier ones.
   * @default 'each'
   */
  missed?: 'each' | 'once';
  /**
   * Priority level of every tick's job, 0 to the queue's `priorities` − 1
   * (see `AddOptions.priority`).
   * @default 0
   */
  priority?: number;
}

/** A validated repeatable definition, as stored (JSON) in the partition's definitions hash. */
export interface RepeatDefinition {
  /** Changes whenever the definition is replaced: a scheduler holding an older one cannot enqueue with it. */
  readonly id: string;
  readonly key: string;
  readonly every?: number;
  readonly cron?: string;
  readonly tz?: string;
  readonly missed: 'each' | 'once';
  /** Priority level of the ticks' jobs (absent in definitions stored before priorities existed: 0). */
  readonly priority?: number;
  /** The serialized payload every tick's job carries. */
  readonly data: string;
}

const MAX_EVERY_MS = 365 * 86_400_000;

export function resolveRepeatKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200 || /[\s]/.test(key)) {
    throw new InvalidArgumentError('key', `expected 1–200 characters without spaces, got ${describe(key)}`);
  }
  return key;
}

/** Validates a schedule (parsing the cron expression once); returns its stored fields. */
export function resolveSchedule(input: unknown): { every?: number; cron?: string; tz?: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidArgumentError('schedule', `expected { every } or { cron, tz? }, got ${describe(input)}`);
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['every', 'cron', 'tz'].includes(k)) throw new InvalidArgumentError(`schedule option "${k}"`, 'unknown; known: every, cron, tz');
  }
  if (o.every !== undefined && o.cron !== undefined) throw new InvalidArgumentError('schedule', 'give either every or cron, not both');
  if (o.every !== undefined) {
    if (typeof o.every !== 'number' || !Number.isInteger(o.every) || o.every < 100 || o.every > MAX_EVERY_MS) {
      throw new InvalidArgumentError('every', `expected an integer number of ms from 100 to one year, got ${describe(o.every)}`);
    }
    if (o.tz !== undefined) throw new InvalidArgumentError('tz', 'applies to cron schedules only');
    return { every: o.every };
  }
  if (typeof o.cron !== 'string' || o.cron.trim().length === 0) throw new InvalidArgumentError('cron', `expected a cron expression, got ${describe(o.cron)}`);
  if (o.tz !== undefined && (typeof o.tz !== 'string' || o.tz.length === 0)) throw new InvalidArgumentError('tz', `expected an IANA time zone name, got ${describe(o.tz)}`);
  const tz = (o.tz as string | undefined) ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new InvalidArgumentError('tz', `expected an IANA time zone name, got ${describe(o.tz)}`);
  }
  const spec = { cron: o.cron.trim(), tz };
  try {
    nextTick(spec, Date.now());
  } catch (err) {
    throw new InvalidArgumentError('cron', `"${o.cron}" cannot be parsed: ${(err as Error).message}`);
  }
  return spec;
}

export function resolveRepeatOptions(input: unknown, priorities = 1): { missed: 'each' | 'once'; priority: number } {
  if (input === undefined) return { missed: 'each', priority: 0 };
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidArgumentError('repeat options', `expected an object, got ${describe(input)}`);
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'missed' && k !== 'priority') throw new InvalidArgumentError(`option "${k}"`, 'unknown repeat option; known: missed, priority');
  const missed = o.missed ?? 'each';
  if (missed !== 'each' && missed !== 'once') throw new InvalidArgumentError('missed', `expected 'each' or 'once', got ${describe(o.missed)}`);
  const priority = o.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority >= priorities) {
    throw new InvalidArgumentError('priority', `expected an integer from 0 to ${priorities - 1} (the queue's \`priorities\` − 1), got ${describe(o.priority)}`);
  }
  return { missed, priority };
}

/** The first tick strictly after `afterMs`, or undefined when the schedule has no more. */
export function nextTick(spec: { every?: number; cron?: string; tz?: string }, afterMs: number): number | undefined {
  if (spec.every !== undefined) return (Math.floor(afterMs / spec.every) + 1) * spec.every;
  const it = CronExpressionParser.parse(spec.cron!, { currentDate: new Date(afterMs), tz: spec.tz ?? 'UTC' });
  if (!it.hasNext()) return undefined;
  return it.next().getTime();
}

/** The latest tick at or before `atMs` that is not before `notBeforeMs` (undefined: none in that span). */
export function latestTick(spec: { every?: number; cron?: string; tz?: string }, notBeforeMs: number, atMs: number): number | undefined {
  let t = nextTick(spec, notBeforeMs - 1);
  if (t === undefined || t > atMs) return undefined;
  if (spec.every !== undefined) return Math.floor(atMs / spec.every) * spec.every;
  const it = CronExpressionParser.parse(spec.cron!, { currentDate: new Date(atMs + 1), tz: spec.tz ?? 'UTC' });
  if (it.hasPrev()) {
    const p = it.prev().getTime();
    if (p >= t) t = p;
  }
  return t;
}
