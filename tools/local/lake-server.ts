/**
 * A loopback stand-in for Azure Data Lake Storage Gen2: the subset of the dfs REST API and of the
 * blob API that `@azure/storage-file-datalake` uses for file systems, paths, append/flush, listing,
 * reads and deletes. Azurite has no dfs API (docs/notes.md), so local runs and tests use this.
 *
 * With an IP-style URL (`http://127.0.0.1:port/<account>`) the SDK sends its blob-API and dfs-API
 * calls to the same base URL, so requests are told apart by their query (`restype=container` is
 * the blob API, `resource=…`/`action=…` the dfs API) and, for paths, by method.
 *
 * State lives on disk, so it survives restarts: `<root>/<account>/<fileSystem>/<path>` holds
 * committed file contents and real directories; ETag and times derive from the file's stat.
 * Flushes append in place and reads never go past the size they report, so a reader racing a
 * flush sees the old length, never half of the new data.
 * Appended-but-unflushed data is kept in memory only (the real service keeps it for days; a
 * restart here drops it, like a crashed writer that never flushed). Any credential is accepted:
 * the server listens on loopback only and is for local development.
 *
 * Over 450 lines for now: the dfs and blob request handling share one router and one path model;
 * splitting the runtime package by service is issue #13 (one folder per emulated service).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

export interface LakeServerOptions {
  /** Directory holding the lake's data; created when missing. */
  readonly root: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** Account name in the URLs this server prints; any account in a request path is served. */
  readonly account?: string;
}

export interface LakeServerHandle {
  /** Account URL to give the Data Lake clients, e.g. `http://127.0.0.1:port/devstoreaccount1`. */
  readonly url: string;
  readonly port: number;
  readonly root: string;
  stop(): Promise<void>;
}

/** The version this server reports when the client sends none. */
const SERVICE_VERSION = '2026-06-06';
/** The real service's page size for list paths. */
const DEFAULT_MAX_RESULTS = 5000;
const FILE_SYSTEM_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
/** Milliseconds between 1601-01-01 (Windows file time epoch) and 1970-01-01. */
const FILETIME_EPOCH_OFFSET_MS = 11_644_473_600_000;

type Api = 'blob' | 'dfs';

class LakeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface PathStat {
  readonly isDirectory: boolean;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly created: Date;
}

/** Data appended to a file and not yet flushed, by absolute file position. */
interface Pending {
  readonly pieces: Map<number, Buffer>;
}

export async function startLakeServer(opts: LakeServerOptions): Promise<LakeServerHandle> {
  const root = path.resolve(opts.root);
  await fs.mkdir(root, { recursive: true });
  const lake = new Lake(root);
  const server = http.createServer((req, res) => {
    void lake.handle(req, res);
  });
  const host = '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
  const account = opts.account ?? 'devstoreaccount1';
  return {
    url: `http://${host}:${port}/${account}`,
    port,
    root,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class Lake {
  private readonly pending = new Map<string, Pending>();
  /** Mutations run one at a time so a create, flush and delete of one path never interleave. */
  private mutations: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const version = header(req, 'x-ms-version') ?? SERVICE_VERSION;
    const base: Record<string, string> = {
      'x-ms-request-id': requestId,
      'x-ms-version': version,
      date: new Date().toUTCString(),
    };
    const clientRequestId = header(req, 'x-ms-client-request-id');
    if (clientRequestId) base['x-ms-client-request-id'] = clientRequestId;
    const url = new URL(req.url ?? '/', 'http://lake.local');
    const api = apiOf(req.method ?? 'GET', url.searchParams);
    try {
      const reply = await this.route(req, url, api);
      const headers = { ...base, ...reply.headers };
      if (reply.stream) {
        const stream = reply.stream;
        stream.on('error', () => res.destroy());
        res.writeHead(reply.status, headers);
        stream.pipe(res);
        return;
      }
      const body = reply.body ?? Buffer.alloc(0);
      if (!('content-length' in headers)) headers['content-length'] = String(body.length);
      res.writeHead(reply.status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (e) {
      const err = e instanceof LakeError ? e : new LakeError(500, 'InternalError', (e as Error).message);
      const message = `${err.message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}`;
      const body =
        api === 'dfs'
          ? Buffer.from(JSON.stringify({ error: { code: err.code, message } }))
          : Buffer.from(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${err.code}</Code><Message>${escapeXml(message)}</Message></Error>`);
      const headers = {
        ...base,
        ...err.headers,
        'x-ms-error-code': err.code,
        'content-type': api === 'dfs' ? 'application/json;charset=utf-8' : 'application/xml',
        'content-length': String(req.method === 'HEAD' ? 0 : body.length),
      };
      // The request body may be unread (e.g. an append to a missing file); drain it so the
      // connection stays usable for the client's keep-alive pool.
      req.resume();
      const bodiless = req.method === 'HEAD' || err.status === 304;
      if (bodiless) headers['content-length'] = '0';
      res.writeHead(err.status, headers);
      res.end(bodiless ? undefined : body);
    }
  }

  private async route(req: IncomingMessage, url: URL, api: Api): Promise<Reply> {
    let segments: string[];
    try {
      // The raw path, not URL's: URL would resolve dot segments silently instead of refusing them.
      segments = ((req.url ?? '/').split('?')[0] ?? '').split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      throw new LakeError(400, 'InvalidUri', 'The request URI is not valid.');
    }
    const [account, fileSystem, ...rest] = segments;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (!account) throw new LakeError(400, 'InvalidUri', 'The request URI names no account.');
    if (!/^[a-z0-9]{3,24}$/.test(account)) throw new LakeError(400, 'InvalidUri', `"${account}" is not a valid account name.`);
    if (!fileSystem) throw new LakeError(501, 'NotImplemented', 'Account-level operations are not served by this lake stand-in.');
    if (!FILE_SYSTEM_NAME.test(fileSystem)) throw new LakeError(400, 'InvalidResourceName', `"${fileSystem}" is not a valid file system name.`);
    for (const s of rest) {
      // A decoded %2F would be a separator on disk; with `..` it could leave the lake's directory.
      if (s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0')) throw new LakeError(400, 'InvalidResourceName', 'The path is not valid.');
    }
    const fsDir = path.join(this.root, account, fileSystem);
    const name = rest.join('/');
    if (path.relative(fsDir, path.join(fsDir, ...rest)).startsWith('..')) throw new LakeError(400, 'InvalidResourceName', 'The path is not valid.');

    if (rest.length === 0) {
      const blob = q.get('restype') === 'container';
      const dfs = q.get('resource') === 'filesystem';
      if (blob && q.has('comp')) throw new LakeError(501, 'NotImplemented', `comp=${q.get('comp') ?? ''} is not served by this lake stand-in.`);
      if (method === 'PUT' && (blob || dfs)) return this.mutate(() => this.createFileSystem(fsDir, blob));
      if ((method === 'GET' || method === 'HEAD') && blob) return this.fileSystemProperties(fsDir, true);
      if (method === 'HEAD' && dfs) return this.fileSystemProperties(fsDir, false);
      if (method === 'GET' && dfs) return this.listPaths(fsDir, q);
      if (method === 'DELETE' && (blob || dfs)) return this.mutate(() => this.deleteFileSystem(fsDir, blob));
      throw new LakeError(400, 'UnsupportedHttpVerb', `${method} ${url.search} on a file system is not supported.`);
    }

    const file = path.join(fsDir, ...rest);
    const key = `${account}/${fileSystem}/${name}`;
    switch (method) {
      case 'PUT': {
        const resource = q.get('resource');
        if (header(req, 'x-ms-rename-source')) throw new LakeError(501, 'NotImplemented', 'Rename is not served by this lake stand-in.');
        if (resource !== 'file' && resource !== 'directory') throw new LakeError(400, 'InvalidQueryParameterValue', 'resource must be file or directory.');
        return this.mutate(() => this.createPath(fsDir, file, key, resource, req));
      }
      case 'PATCH': {
        const action = q.get('action');
        if (action === 'append') {
          const body = await readBody(req);
          return this.mutate(() => this.append(fsDir, file, key, q, body, req));
        }
        if (action === 'flush') return this.mutate(() => this.flush(fsDir, file, key, q, req));
        throw new LakeError(501, 'NotImplemented', `action=${action ?? ''} is not served by this lake stand-in.`);
      }
      case 'GET':
      case 'HEAD':
        return this.readPath(fsDir, file, req, method === 'HEAD', api);
      case 'DELETE':
        return this.mutate(() => this.deletePath(fsDir, file, key, q, req));
      default:
        throw new LakeError(400, 'UnsupportedHttpVerb', `${method} is not supported.`);
    }
  }

  private mutate<T>(op: () => Promise<T>): Promise<T> {
    const next = this.mutations.then(op, op);
    this.mutations = next.catch(() => undefined);
    return next;
  }

  // ---- file systems -------------------------------------------------------------------------

  private async createFileSystem(fsDir: string, blob: boolean): Promise<Reply> {
    if (await exists(fsDir)) {
      // The blob API and the dfs API name the same conflict differently; createIfNotExists
      // (which goes through the blob API) looks for ContainerAlreadyExists.
      throw blob
        ? new LakeError(409, 'ContainerAlreadyExists', 'The specified container already exists.')
        : new LakeError(409, 'FileSystemAlreadyExists', 'The specified filesystem already exists.');
    }
    await fs.mkdir(fsDir, { recursive: true });
    const st = await statPath(fsDir);
    return { status: 201, headers: { etag: st.etag, 'last-modified': st.lastModified.toUTCString() } };
  }

  private async fileSystemProperties(fsDir: string, blob: boolean): Promise<Reply> {
    const st = await this.requireFileSystem(fsDir, blob);
    const headers: Record<string, string> = { etag: st.etag, 'last-modified': st.lastModified.toUTCString() };
    if (blob) {
      Object.assign(headers, {
        'x-ms-lease-state': 'available',
        'x-ms-lease-status': 'unlocked',
        'x-ms-has-immutability-policy': 'false',
        'x-ms-has-legal-hold': 'false',
        'x-ms-default-encryption-scope': '$account-encryption-key',
        'x-ms-deny-encryption-scope-override': 'false',
      });
    } else {
      headers['x-ms-namespace-enabled'] = 'true';
    }
    return { status: 200, headers };
  }

  private async deleteFileSystem(fsDir: string, blob: boolean): Promise<Reply> {
    await this.requireFileSystem(fsDir, blob);
    await fs.rm(fsDir, { recursive: true, force: true });
    const prefix = `${path.relative(this.root, fsDir).split(path.sep).join('/')}/`;
    for (const k of this.pending.keys()) if (k.startsWith(prefix)) this.pending.delete(k);
    return { status: 202, headers: {} };
  }

  private async requireFileSystem(fsDir: string, blob: boolean): Promise<PathStat> {
    const st = await tryStat(fsDir);
    if (!st) {
      throw blob
        ? new LakeError(404, 'ContainerNotFound', 'The specified container does not exist.')
        : new LakeError(404, 'FilesystemNotFound', 'The specified filesystem does not exist.');
    }
    return st;
  }

  // ---- listing ------------------------------------------------------------------------------

  private async listPaths(fsDir: string, q: URLSearchParams): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const recursive = q.get('recursive') === 'true';
    const directory = (q.get('directory') ?? '').split('/').filter((s) => s !== '');
    const maxRaw = q.get('maxResults');
    const max = maxRaw ? Number(maxRaw) : DEFAULT_MAX_RESULTS;
    if (!Number.isInteger(max) || max < 1) throw new LakeError(400, 'InvalidQueryParameterValue', 'maxResults must be a positive integer.');
    const continuation = q.get('continuation');
    const after = continuation ? Buffer.from(continuation, 'base64').toString('utf8').split('/') : undefined;

    const start = path.join(fsDir, ...directory);
    const startStat = await tryStat(start);
    if (!startStat) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');

    const entries: { segments: string[]; stat: PathStat }[] = [];
    if (!startStat.isDirectory) {
      entries.push({ segments: directory, stat: startStat });
    } else {
      // One more than a page tells whether a continuation is needed.
      await walk(start, directory, recursive, after, max + 1, entries);
    }
    const page = entries.slice(0, max);
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=utf-8' };
    const last = page[page.length - 1];
    if (entries.length > max && last) headers['x-ms-continuation'] = Buffer.from(last.segments.join('/')).toString('base64');
    const paths = page.map(({ segments, stat }) => ({
      name: segments.join('/'),
      ...(stat.isDirectory ? { isDirectory: 'true' } : {}),
      lastModified: stat.lastModified.toUTCString(),
      // The REST docs name this `etag`; the SDK's mapper reads `eTag`. Both keep either reader whole.
      etag: stat.etag,
      eTag: stat.etag,
      contentLength: String(stat.isDirectory ? 0 : stat.size),
      owner: '$superuser',
      group: '$superuser',
      permissions: stat.isDirectory ? 'rwxr-x---' : 'rw-r-----',
      creationTime: String(BigInt(stat.created.getTime() + FILETIME_EPOCH_OFFSET_MS) * 10_000n),
      expiryTime: '0',
    }));
    return { status: 200, headers, body: Buffer.from(JSON.stringify({ paths })) };
  }

  // ---- paths --------------------------------------------------------------------------------

  private async createPath(fsDir: string, file: string, key: string, resource: 'file' | 'directory', req: IncomingMessage): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const existing = await tryStat(file);
    checkConditions(req, existing, true);
    await this.ensureParents(fsDir, file);
    if (resource === 'directory') {
      if (existing && !existing.isDirectory) throw new LakeError(409, 'PathConflict', 'The specified path already exists as a file.');
      await fs.mkdir(file, { recursive: true });
    } else {
      if (existing?.isDirectory) throw new LakeError(409, 'PathConflict', 'The specified path already exists as a directory.');
      // Creating a file over an existing one starts it afresh, as the service does.
      await fs.writeFile(file, Buffer.alloc(0));
      this.pending.delete(key);
    }
    const st = await statPath(file);
    return {
      status: 201,
      headers: { etag: st.etag, 'last-modified': st.lastModified.toUTCString(), 'x-ms-request-server-encrypted': 'false' },
    };
  }

  private async ensureParents(fsDir: string, file: string): Promise<void> {
    let dir = path.dirname(file);
    const chain: string[] = [];
    while (dir.length > fsDir.length) {
      chain.unshift(dir);
      dir = path.dirname(dir);
    }
    for (const d of chain) {
      const st = await tryStat(d);
      if (st && !st.isDirectory) throw new LakeError(409, 'PathConflict', 'A parent of the specified path is a file.');
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
  }

  private async append(fsDir: string, file: string, key: string, q: URLSearchParams, body: Buffer, req: IncomingMessage): Promise<Reply> {
    if (header(req, 'x-ms-structured-body')) throw new LakeError(400, 'UnsupportedHeader', 'Structured (CRC64) message bodies are not supported by this lake stand-in.');
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    if (st.isDirectory) throw new LakeError(409, 'InvalidFlushOperation', 'The resource is a directory.');
    const position = parsePosition(q);
    if (position < st.size) throw new LakeError(400, 'InvalidFlushPosition', 'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.');
    const p = this.pending.get(key) ?? { pieces: new Map<number, Buffer>() };
    if (body.length > 0) p.pieces.set(position, body);
    this.pending.set(key, p);
    if (q.get('flush') === 'true') return this.commit(file, key, st, position + body.length, false, 202);
    return { status: 202, headers: { 'x-ms-request-server-encrypted': 'false' } };
  }

  private async flush(fsDir: string, file: string, key: string, q: URLSearchParams, req: IncomingMessage): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    if (st.isDirectory) throw new LakeError(409, 'InvalidFlushOperation', 'The resource is a directory.');
    checkConditions(req, st, false);
    return this.commit(file, key, st, parsePosition(q), q.get('retainUncommittedData') === 'true', 200);
  }

  /** Makes the appended data up to `position` part of the file, which it must extend contiguously. */
  private async commit(file: string, key: string, st: PathStat, position: number, retain: boolean, status: number): Promise<Reply> {
    if (position < st.size) throw new LakeError(400, 'InvalidFlushPosition', 'The position is less than the length of the file.');
    const p = this.pending.get(key);
    const parts: Buffer[] = [];
    let at = st.size;
    while (at < position) {
      const piece = p?.pieces.get(at);
      if (!piece) throw new LakeError(400, 'InvalidFlushPosition', 'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.');
      const take = Math.min(piece.length, position - at);
      parts.push(piece.subarray(0, take));
      at += take;
    }
    if (parts.length > 0) await fs.appendFile(file, Buffer.concat(parts));
    if (p) {
      for (const pos of [...p.pieces.keys()]) if (pos < position || !retain) p.pieces.delete(pos);
      if (p.pieces.size === 0) this.pending.delete(key);
    }
    const after = await statPath(file);
    return {
      status,
      headers: { etag: after.etag, 'last-modified': after.lastModified.toUTCString(), 'x-ms-request-server-encrypted': 'false' },
    };
  }

  private async readPath(fsDir: string, file: string, req: IncomingMessage, head: boolean, api: Api): Promise<Reply> {
    await this.requireFileSystem(fsDir, api === 'blob');
    const st = await tryStat(file);
    if (!st) {
      throw api === 'blob'
        ? new LakeError(404, 'BlobNotFound', 'The specified blob does not exist.')
        : new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    }
    checkConditions(req, st, false);
    if (header(req, 'x-ms-structured-body')) throw new LakeError(400, 'UnsupportedHeader', 'Structured (CRC64) message bodies are not supported by this lake stand-in.');
    const headers: Record<string, string> = {
      etag: st.etag,
      'last-modified': st.lastModified.toUTCString(),
      'x-ms-creation-time': st.created.toUTCString(),
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'x-ms-blob-type': 'BlockBlob',
      'x-ms-lease-state': 'available',
      'x-ms-lease-status': 'unlocked',
      'x-ms-server-encrypted': 'false',
      'x-ms-resource-type': st.isDirectory ? 'directory' : 'file',
      'x-ms-owner': '$superuser',
      'x-ms-group': '$superuser',
      'x-ms-permissions': st.isDirectory ? 'rwxr-x---' : 'rw-r-----',
    };
    // Through the blob API a directory is an empty blob marked as a folder.
    if (st.isDirectory) headers['x-ms-meta-hdi_isfolder'] = 'true';
    const size = st.isDirectory ? 0 : st.size;
    const range = parseRange(header(req, 'x-ms-range') ?? header(req, 'range'), size);
    if (head) {
      return { status: 200, headers: { ...headers, 'content-length': String(size) } };
    }
    if (!range) {
      headers['content-length'] = String(size);
      if (size === 0) return { status: 200, headers };
      return { status: 200, headers, stream: createReadStream(file, { start: 0, end: size - 1 }) };
    }
    headers['content-length'] = String(range.end - range.start + 1);
    headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    return { status: 206, headers, stream: createReadStream(file, { start: range.start, end: range.end }) };
  }

  private async deletePath(fsDir: string, file: string, key: string, q: URLSearchParams, req: IncomingMessage): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    checkConditions(req, st, false);
    if (st.isDirectory) {
      const children = await fs.readdir(file);
      if (children.length > 0 && q.get('recursive') !== 'true') throw new LakeError(409, 'DirectoryNotEmpty', 'The recursive query parameter value must be true to delete a non-empty directory.');
      await fs.rm(file, { recursive: true, force: true });
      for (const k of this.pending.keys()) if (k.startsWith(`${key}/`)) this.pending.delete(k);
    } else {
      await fs.rm(file, { force: true });
    }
    this.pending.delete(key);
    return { status: 200, headers: {} };
  }
}

/**
 * Which of the two APIs a request belongs to; it decides the error body's format and some error
 * codes. Container calls carry `restype`/`comp`, dfs calls `resource`/`action`; a plain GET or
 * HEAD of a path is the blob API's download / get-properties.
 */
function apiOf(method: string, q: URLSearchParams): Api {
  if (q.has('restype') || q.has('comp')) return 'blob';
  if (q.has('resource') || q.has('action')) return 'dfs';
  return method === 'GET' || method === 'HEAD' ? 'blob' : 'dfs';
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
  readonly stream?: NodeJS.ReadableStream;
}

/**
 * Depth-first, children in code-unit order: the order the service lists in, and the order in
 * which a path's segments compare, so a continuation (the last path sent) resumes exactly.
 */
async function walk(
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

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareSegments(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareCodeUnits(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** If-Match / If-None-Match, as the service applies them; a create with If-None-Match: * on an existing path is a 409. */
function checkConditions(req: IncomingMessage, st: PathStat | undefined, isCreate: boolean): void {
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

function parsePosition(q: URLSearchParams): number {
  const raw = q.get('position');
  const n = raw === null ? NaN : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new LakeError(400, 'InvalidQueryParameterValue', 'position must be a non-negative integer.');
  return n;
}

function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d+)-(\d*)$/.exec(value.trim());
  if (!m) throw new LakeError(400, 'InvalidRange', 'The range specified is invalid.');
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (start >= size || end < start) {
    throw new LakeError(416, 'InvalidRange', 'The range specified is invalid for the current size of the resource.', { 'content-range': `bytes */${size}` });
  }
  return { start, end };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  const declared = header(req, 'content-length');
  if (declared !== undefined && Number(declared) !== body.length) throw new LakeError(400, 'InvalidHeaderValue', 'Content-Length does not match the body.');
  return body;
}

async function tryStat(p: string): Promise<PathStat | undefined> {
  try {
    return await statPath(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

async function statPath(p: string): Promise<PathStat> {
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

async function exists(p: string): Promise<boolean> {
  return (await tryStat(p)) !== undefined;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
