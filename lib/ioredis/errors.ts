import { ReplyError as IoredisReplyError } from 'ioredis';
import { RedisReplyError } from '../errors.js';

/**
 * `ReplyError` for code that checks `err instanceof ReplyError`: every error
 * reply of a Redis server matches it — slotwise's RedisReplyError (commands
 * through the cluster) and ioredis' own ReplyError (commands on a node from
 * `nodes()`). It is ioredis' class, so `new ReplyError(msg)` builds one.
 * Errors slotwise raises for other reasons (TimeoutError, ConnectionError,
 * CrossSlotError…) are not reply errors and do not match.
 */
export const ReplyError: typeof IoredisReplyError = (() => {
  const Base = IoredisReplyError as new (message?: string) => Error;
  class ReplyError extends Base {
    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof RedisReplyError || value instanceof IoredisReplyError;
    }
  }
  Object.defineProperty(ReplyError, 'name', { value: 'ReplyError' });
  return ReplyError as typeof IoredisReplyError;
})();
