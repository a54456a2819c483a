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
 * This file is the server and its router; the operations on file systems and paths are in
 * store.ts, the path model (stat, listing order, conditions, ranges) in paths.ts, the error
 * replies in errors.ts, the options in options.ts.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

import { errorBody, errorContentType, LakeError } from './errors';
import type { LakeServerHandle, LakeServerOptions } from './options';
import { apiOf, FILE_SYSTEM_NAME, header, readBody, SERVICE_VERSION } from './paths';
import type { Api, Reply } from './paths';
import { LakeStore } from './store';

export type { LakeServerHandle, LakeServerOptions } from './options';

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
  private readonly store: LakeStore;
  /** Mutations run one at a time so a create, flush and delete of one path never interleave. */
  private mutations: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {
    this.store = new LakeStore(root);
  }

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
      const body = errorBody(err, api, requestId);
      const headers = {
        ...base,
        ...err.headers,
        'x-ms-error-code': err.code,
        'content-type': errorContentType(api),
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
      segments = ((req.url ?? '/').split('?')[0] ?? '')
        .split('/')
        .filter((s) => s !== '')
        .map((s) => decodeURIComponent(s));
    } catch {
      throw new LakeError(400, 'InvalidUri', 'The request URI is not valid.');
    }
    const [account, fileSystem, ...rest] = segments;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    if (!account) throw new LakeError(400, 'InvalidUri', 'The request URI names no account.');
    if (!/^[a-z0-9]{3,24}$/.test(account))
      throw new LakeError(400, 'InvalidUri', `"${account}" is not a valid account name.`);
    if (!fileSystem)
      throw new LakeError(501, 'NotImplemented', 'Account-level operations are not served by this lake stand-in.');
    if (!FILE_SYSTEM_NAME.test(fileSystem))
      throw new LakeError(400, 'InvalidResourceName', `"${fileSystem}" is not a valid file system name.`);
    for (const s of rest) {
      // A decoded %2F would be a separator on disk; with `..` it could leave the lake's directory.
      if (s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0'))
        throw new LakeError(400, 'InvalidResourceName', 'The path is not valid.');
    }
    const fsDir = path.join(this.root, account, fileSystem);
    const name = rest.join('/');
    if (path.relative(fsDir, path.join(fsDir, ...rest)).startsWith('..'))
      throw new LakeError(400, 'InvalidResourceName', 'The path is not valid.');

    if (rest.length === 0) {
      const blob = q.get('restype') === 'container';
      const dfs = q.get('resource') === 'filesystem';
      if (blob && q.has('comp'))
        throw new LakeError(501, 'NotImplemented', `comp=${q.get('comp') ?? ''} is not served by this lake stand-in.`);
      if (method === 'PUT' && (blob || dfs)) return this.mutate(() => this.store.createFileSystem(fsDir, blob));
      if ((method === 'GET' || method === 'HEAD') && blob) return this.store.fileSystemProperties(fsDir, true);
      if (method === 'HEAD' && dfs) return this.store.fileSystemProperties(fsDir, false);
      if (method === 'GET' && dfs) return this.store.listPaths(fsDir, q);
      if (method === 'DELETE' && (blob || dfs)) return this.mutate(() => this.store.deleteFileSystem(fsDir, blob));
      throw new LakeError(400, 'UnsupportedHttpVerb', `${method} ${url.search} on a file system is not supported.`);
    }

    const file = path.join(fsDir, ...rest);
    const key = `${account}/${fileSystem}/${name}`;
    switch (method) {
      case 'PUT': {
        const resource = q.get('resource');
        if (header(req, 'x-ms-rename-source'))
          throw new LakeError(501, 'NotImplemented', 'Rename is not served by this lake stand-in.');
        if (resource !== 'file' && resource !== 'directory')
          throw new LakeError(400, 'InvalidQueryParameterValue', 'resource must be file or directory.');
        return this.mutate(() => this.store.createPath(fsDir, file, key, resource, req));
      }
      case 'PATCH': {
        const action = q.get('action');
        if (action === 'append') {
          const body = await readBody(req);
          return this.mutate(() => this.store.append(fsDir, file, key, q, body, req));
        }
        if (action === 'flush') return this.mutate(() => this.store.flush(fsDir, file, key, q, req));
        throw new LakeError(501, 'NotImplemented', `action=${action ?? ''} is not served by this lake stand-in.`);
      }
      case 'GET':
      case 'HEAD':
        return this.store.readPath(fsDir, file, req, method === 'HEAD', api);
      case 'DELETE':
        return this.mutate(() => this.store.deletePath(fsDir, file, key, q, req));
      default:
        throw new LakeError(400, 'UnsupportedHttpVerb', `${method} is not supported.`);
    }
  }

  private mutate<T>(op: () => Promise<T>): Promise<T> {
    const next = this.mutations.then(op, op);
    this.mutations = next.catch(() => undefined);
    return next;
  }
}
