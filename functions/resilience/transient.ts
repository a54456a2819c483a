/**
 * Which failures are worth retrying: throttling, unavailability, timeouts and dropped
 * connections. Anything else (a 400, a bug) fails at once.
 */
const TRANSIENT_STATUS = new Set([408, 429, 449, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ESOCKETTIMEDOUT',
  'TimeoutError',
  'REQUEST_SEND_ERROR',
]);

export function isTransient(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const o = e as { code?: unknown; statusCode?: unknown; name?: unknown; transient?: unknown };
  if (o.transient === true) return true;
  const status = typeof o.statusCode === 'number' ? o.statusCode : typeof o.code === 'number' ? o.code : undefined;
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return true;
  if (typeof o.code === 'string' && TRANSIENT_CODES.has(o.code)) return true;
  return o.name === 'TimeoutError' || o.name === 'AbortError';
}

/** Retry-after hint from a throttled response, when the service gave one. */
export function retryAfterMs(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const v =
    (e as { retryAfterInMs?: unknown; retryAfterInMilliseconds?: unknown }).retryAfterInMs ??
    (e as { retryAfterInMilliseconds?: unknown }).retryAfterInMilliseconds;
  return typeof v === 'number' && v >= 0 ? v : undefined;
}
