/**
 * regenerate(): a session moved to a new id (same data, owner, expiry). The
 * two ids hash to different slots — RENAME cannot cross slots on a cluster —
 * so this copies, then destroys the original only if its version is still
 * the one copied; a write to the original during the copy makes it copy
 * again (at most 5 times).
 */
import { SessionConflictError, SessionExistsError } from '../errors.js';
import { ATTRIBUTE, META_FIELD, parseMeta, type SessionKeys } from './keys.js';
import type { ResolvedSessionOptions } from './options.js';
import type { SessionScripts } from './scripts.js';
import type { UserIndex } from './user-index.js';

export interface RegenerateContext {
  readonly scripts: SessionScripts;
  readonly keys: SessionKeys;
  readonly index: UserIndex;
  readonly options: ResolvedSessionOptions;
  readonly destroy: (id: string) => Promise<boolean>;
}

export async function regenerateSession(ctx: RegenerateContext, id: string, newId: string): Promise<string | null> {
  let mode: 'create' | 'overwrite' = 'create';
  for (let attempt = 0; attempt < 5; attempt++) {
    const reply = (await ctx.scripts.read.run([ctx.keys.session(id)])) as (string | number)[];
    const pttl = Number(reply[0]);
    if (pttl === -2) {
      if (mode === 'overwrite') await ctx.destroy(newId);
      return null;
    }
    const fields = reply.slice(1).map(String);
    let meta = '';
    const pairs: string[] = [];
    for (let i = 0; i < fields.length; i += 2) {
      if (fields[i] === META_FIELD) meta = fields[i + 1]!;
      // Attributes only: the attribute count ('n', see write.lua) belongs to the original's versions, not the copy's.
      else if (fields[i]!.startsWith(ATTRIBUTE)) pairs.push(fields[i]!, fields[i + 1]!);
    }
    const parsed = parseMeta(meta);
    if (parsed === undefined) return null;
    const owner = parsed.userId;
    const version = String(parsed.version);
    if (owner) await ctx.index.add(owner, newId, pttl > 0 ? pttl : ctx.options.ttlMs);
    const copied = await ctx.scripts.clone.run([ctx.keys.session(newId), ctx.keys.tombstone(newId)], [Date.now(), pttl > 0 ? pttl : ctx.options.ttlMs, mode, meta, ...pairs]);
    if (copied === 'EXISTS') throw new SessionExistsError(newId, 'exists');
    if (copied === 'DESTROYED') throw new SessionExistsError(newId, 'destroyed');
    mode = 'overwrite';
    const [status] = (await ctx.scripts.destroy.run([ctx.keys.session(id), ctx.keys.tombstone(id)], [ctx.options.tombstoneTtlMs, '', version])) as [string, string];
    if (status === 'CONFLICT') continue;
    if (owner) await ctx.index.removeDestroyed(owner, [id]);
    if (status === 'MISSING') {
      // The original vanished (expired or destroyed) while we copied: so must the copy.
      await ctx.destroy(newId);
      return null;
    }
    return newId;
  }
  throw new SessionConflictError(id, `Session "${id}" kept changing while it was being regenerated; gave up after 5 attempts`);
}
