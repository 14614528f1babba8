/**
 * Pure classification of why a connection's handshake or login was refused.
 * Reads Node's TLS error codes and the server's reply prefix only; used by
 * connection.ts to raise TlsError / AuthError instead of a generic
 * connection failure that would be retried.
 */

/** Certificate verification results OpenSSL reports (Node exposes them as `code`). */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/** Server replies that mean "these credentials are refused", by prefix. */
const AUTH_PREFIXES = ['WRONGPASS', 'NOAUTH', 'NOPERM'];

function chain(err: unknown): Array<{ code?: unknown; message?: unknown; library?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown; library?: unknown }> = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== null && typeof e === 'object'; i++) {
    out.push(e as { code?: unknown; message?: unknown });
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/**
 * The TLS reason (a Node/OpenSSL code) when `err` is a refused TLS handshake
 * — certificate verification on either side, a TLS alert, a protocol
 * mismatch — else undefined (a plain socket error stays a connection error).
 */
export function tlsFailureReason(err: unknown): { reason: string; detail: string } | undefined {
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const isTls = CERT_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || e.library === 'SSL routines';
    if (isTls) return { reason: code || 'TLS_HANDSHAKE', detail: typeof e.message === 'string' ? e.message.split('\n', 1)[0]! : code };
  }
  return undefined;
}

/** `WRONGPASS`, `NOAUTH` or `NOPERM` when the server refused the login, else undefined. */
export function authFailureReason(err: unknown): string | undefined {
  for (const e of chain(err)) {
    const m = typeof e.message === 'string' ? e.message : '';
    const prefix = AUTH_PREFIXES.find((p) => m.startsWith(p));
    if (prefix !== undefined) return prefix;
  }
  return undefined;
}
