/**
 * Decoding an event body as the Functions host hands it over: already JSON-parsed when it
 * parses, the raw string when it does not, or bytes. Shared by every hub consumer; what counts
 * as valid after parsing is each schema's business.
 */
import type { FieldError } from './errors';

export type Poison<R extends string = string> = {
  readonly ok: false;
  readonly reason: R;
  readonly errors: readonly FieldError[];
  /** The body as received, as text, for the dead letter. */
  readonly rawBody: string;
  readonly rawBodyEncoding: 'utf8' | 'base64';
};

export type ParsedBody = { readonly ok: true; readonly value: unknown } | Poison<'NotJson' | 'BodyTooLarge'>;

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

export function poison<R extends string>(reason: R, errors: readonly FieldError[], rawBody: string): Poison<R> {
  return { ok: false, reason, errors, rawBody, rawBodyEncoding: 'utf8' };
}

/** Parses text and bytes (refusing oversized ones before parsing); passes parsed values through. */
export function parseBody(body: unknown, utf8: (bytes: Uint8Array) => string, maxBytes: number): ParsedBody {
  if (typeof body !== 'string' && !isBytes(body)) return { ok: true, value: body };
  const size = typeof body === 'string' ? body.length : body.byteLength;
  const text = typeof body === 'string' ? body : utf8(body);
  if (size > maxBytes)
    return poison('BodyTooLarge', [{ path: '/', message: `body of ${size} bytes exceeds ${maxBytes}` }], text);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return poison('NotJson', [{ path: '/', message: (e as Error).message }], text);
  }
}

/** The body as text, for a dead letter of a body that parsed but broke its schema. */
export function rawText(body: unknown, utf8: (bytes: Uint8Array) => string): string {
  if (typeof body === 'string') return body;
  if (isBytes(body)) return utf8(body);
  try {
    return JSON.stringify(body) ?? String(body);
  } catch {
    return String(body);
  }
}
