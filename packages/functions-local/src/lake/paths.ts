/**
 * The Data Lake stand-in's path model and request helpers: what a path's stat says (ETag and
 * times derive from the file's), the listing order (depth first, code-unit order, so a
 * continuation resumes exactly), conditional headers, positions and ranges, and which of the two
 * APIs a request belongs to.
 */
import fs from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { LakeError } from './errors';

/** The version this server reports when the client sends none. */
export const SERVICE_VERSION = '2026-06-06';
/** The real service's page size for list paths. */
export const DEFAULT_MAX_RESULTS = 5000;
export const FILE_SYSTEM_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
/** Milliseconds between 1601-01-01 (Windows file time epoch) and 1970-01-01. */
export const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000;

export type Api = 'blob' | 'dfs';

export interface PathStat {
  readonly isDirectory: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly created: Date;
}

/** Data appended to a file and not yet flushed, by absolute file position. */
export interface Pending {
  readonly pieces: Map<number, Buffer>;
}

/**
 * Which of the two APIs a request belongs to; it decides the error body's format and some error
 * codes. Container calls carry `restype`/`comp`, dfs calls `resource`/`action`; a plain GET or
 * HEAD of a path is the blob API's download / get-properties.
 */
export function apiOf(method: string, q: URLSearchParams): Api {
  if (q.has('restype') || q.has('comp')) return 'blob';
  if (q.has('resource') || q.has('action')) return 'dfs';
  return method === 'GET' || method === 'HEAD' ? 'blob' : 'dfs';
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  readonly stream?: NodeJS.ReadableStream;
}

/**
 * Depth-first, children in code-unit order: the order the service lists in, and the order in
 * which a path's segments compare, so a continuation (the last path sent) resumes exactly.
 */
export async function walk(
  dir: string,
  segments: readonly string[],
  recursive: boolean,
  after: readonly string[] | undefined,
  limit: number,
  out: { segments: string[]; stat: PathStat }[],
): Promise<void> {
  const names = (await fs.readdir(dir)).sort(compareCodeUnits);
  for (const n of names) {
    if (out.length >= limit) return;
    const childSegments = [...segments, n];
    // Against the continuation point: before it (skip the whole subtree), on its way (an
    // ancestor: not listed again, but descend with the point), or past it (list normally).
    const c = after ? compareSegments(childSegments, after.slice(0, childSegments.length)) : 1;
    if (c < 0) continue;
    const onTheWay = c === 0;
    const st = await tryStat(path.join(dir, n));
    if (!st) continue; // removed while listing
    if (!onTheWay) out.push({ segments: childSegments, stat: st });
    if (recursive && st.isDirectory) {
      const deeper = onTheWay && after && childSegments.length < after.length ? after : undefined;
      await walk(path.join(dir, n), childSegments, recursive, deeper, limit, out);
    }
  }
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSegments(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodeUnits(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** If-Match / If-None-Match, as the service applies them; a create with If-None-Match: * on an existing path is a 409. */
export function checkConditions(req: IncomingMessage, st: PathStat | undefined, isCreate: boolean): void {
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  if (ifMatch && (!st || (ifMatch !== '*' && ifMatch !== st.etag))) {
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    throw new LakeError(412, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');
  }
  if (ifNoneMatch && st && (ifNoneMatch === '*' || ifNoneMatch === st.etag)) {
    if (isCreate) throw new LakeError(409, 'PathAlreadyExists', 'The specified path already exists.');
    if (req.method === 'GET' || req.method === 'HEAD') throw new LakeError(304, 'ConditionNotMet', 'Not modified.');
    throw new LakeError(412, 'ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.');
  }
}

export function parsePosition(q: URLSearchParams): number {
  const raw = q.get('position');
  const n = raw === null ? NaN : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new LakeError(400, 'InvalidQueryParameterValue', 'position must be a non-negative integer.');
  return n;
}

export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(value.trim());
  if (!m) throw new LakeError(400, 'InvalidRange', 'The range specified is invalid.');
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) {
    throw new LakeError(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.', {
      'content-range': `bytes */${size}`,
    });
  }
  return { start, end };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const declared = header(req, 'content-length');
  if (declared !== undefined && Number(declared) !== body.length)
    throw new LakeError(400, 'InvalidHeaderValue', 'Content-Length does not match the body.');
  return body;
}

export async function tryStat(p: string): Promise<PathStat | undefined> {
  try {
    return await statPath(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return undefined;
    throw e;
  }
}

export async function statPath(p: string): Promise<PathStat> {
  const st = await fs.stat(p, { bigint: true });
  // Every flush that adds data changes size and mtime; the inode tells a re-created file apart.
  const etag = `"0x${st.mtimeNs.toString(16).toUpperCase()}${st.size.toString(16).toUpperCase()}${st.ino.toString(16).toUpperCase()}"`;
  return {
    isDirectory: st.isDirectory(),
    size: Number(st.size),
    etag,
    lastModified: new Date(Number(st.mtimeMs)),
    created: new Date(Number(st.birthtimeMs > 0n ? st.birthtimeMs : st.ctimeMs)),
  };
}

export async function exists(p: string): Promise<boolean> {
  return (await tryStat(p)) !== undefined;
}
