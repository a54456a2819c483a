/**
 * The Data Lake stand-in's operations on disk: file systems (create, properties, delete, list
 * paths) and paths (create, append, flush, read, delete). Committed contents live in files under
 * `<root>/<account>/<fileSystem>/`; appended-but-unflushed data is kept in memory, by path, until
 * a flush commits it in order. The router (server.ts) runs every mutation one at a time.
 *
 * A little over 300 lines once formatted: file systems and paths share the on-disk layout and the
 * uncommitted-append buffer.
 */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { LakeError } from './errors';
import {
  checkConditions,
  DEFAULT_MAX_RESULTS,
  exists,
  FILETIME_EPOCH_OFFSET_MS,
  header,
  parsePosition,
  parseRange,
  statPath,
  tryStat,
  walk,
} from './paths';
import type { Api, PathStat, Pending, Reply } from './paths';

export class LakeStore {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly root: string) {}

  // ---- file systems -------------------------------------------------------------------------

  async createFileSystem(fsDir: string, blob: boolean): Promise<Reply> {
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

  async fileSystemProperties(fsDir: string, blob: boolean): Promise<Reply> {
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

  async deleteFileSystem(fsDir: string, blob: boolean): Promise<Reply> {
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

  async listPaths(fsDir: string, q: URLSearchParams): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const recursive = q.get('recursive') === 'true';
    const directory = (q.get('directory') ?? '').split('/').filter((s) => s !== '');
    const maxRaw = q.get('maxResults');
    const max = maxRaw ? Number(maxRaw) : DEFAULT_MAX_RESULTS;
    if (!Number.isInteger(max) || max < 1)
      throw new LakeError(400, 'InvalidQueryParameterValue', 'maxResults must be a positive integer.');
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
    if (entries.length > max && last)
      headers['x-ms-continuation'] = Buffer.from(last.segments.join('/')).toString('base64');
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

  async createPath(
    fsDir: string,
    file: string,
    key: string,
    resource: 'file' | 'directory',
    req: IncomingMessage,
  ): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const existing = await tryStat(file);
    checkConditions(req, existing, true);
    await this.ensureParents(fsDir, file);
    if (resource === 'directory') {
      if (existing && !existing.isDirectory)
        throw new LakeError(409, 'PathConflict', 'The specified path already exists as a file.');
      await fs.mkdir(file, { recursive: true });
    } else {
      if (existing?.isDirectory)
        throw new LakeError(409, 'PathConflict', 'The specified path already exists as a directory.');
      // Creating a file over an existing one starts it afresh, as the service does.
      await fs.writeFile(file, Buffer.alloc(0));
      this.pending.delete(key);
    }
    const st = await statPath(file);
    return {
      status: 201,
      headers: {
        etag: st.etag,
        'last-modified': st.lastModified.toUTCString(),
        'x-ms-request-server-encrypted': 'false',
      },
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

  async append(
    fsDir: string,
    file: string,
    key: string,
    q: URLSearchParams,
    body: Buffer,
    req: IncomingMessage,
  ): Promise<Reply> {
    if (header(req, 'x-ms-structured-body'))
      throw new LakeError(
        400,
        'UnsupportedHeader',
        'Structured (CRC64) message bodies are not supported by this lake stand-in.',
      );
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    if (st.isDirectory) throw new LakeError(409, 'InvalidFlushOperation', 'The resource is a directory.');
    const position = parsePosition(q);
    if (position < st.size)
      throw new LakeError(
        400,
        'InvalidFlushPosition',
        'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.',
      );
    const p = this.pending.get(key) ?? { pieces: new Map<number, Buffer>() };
    if (body.length > 0) p.pieces.set(position, body);
    this.pending.set(key, p);
    if (q.get('flush') === 'true') return this.commit(file, key, st, position + body.length, false, 202);
    return { status: 202, headers: { 'x-ms-request-server-encrypted': 'false' } };
  }

  async flush(fsDir: string, file: string, key: string, q: URLSearchParams, req: IncomingMessage): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    if (st.isDirectory) throw new LakeError(409, 'InvalidFlushOperation', 'The resource is a directory.');
    checkConditions(req, st, false);
    return this.commit(file, key, st, parsePosition(q), q.get('retainUncommittedData') === 'true', 200);
  }

  /** Makes the appended data up to `position` part of the file, which it must extend contiguously. */
  private async commit(
    file: string,
    key: string,
    st: PathStat,
    position: number,
    retain: boolean,
    status: number,
  ): Promise<Reply> {
    if (position < st.size)
      throw new LakeError(400, 'InvalidFlushPosition', 'The position is less than the length of the file.');
    const p = this.pending.get(key);
    const parts: Buffer[] = [];
    let at = st.size;
    while (at < position) {
      const piece = p?.pieces.get(at);
      if (!piece)
        throw new LakeError(
          400,
          'InvalidFlushPosition',
          'The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.',
        );
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
      headers: {
        etag: after.etag,
        'last-modified': after.lastModified.toUTCString(),
        'x-ms-request-server-encrypted': 'false',
      },
    };
  }

  async readPath(fsDir: string, file: string, req: IncomingMessage, head: boolean, api: Api): Promise<Reply> {
    await this.requireFileSystem(fsDir, api === 'blob');
    const st = await tryStat(file);
    if (!st) {
      throw api === 'blob'
        ? new LakeError(404, 'BlobNotFound', 'The specified blob does not exist.')
        : new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    }
    checkConditions(req, st, false);
    if (header(req, 'x-ms-structured-body'))
      throw new LakeError(
        400,
        'UnsupportedHeader',
        'Structured (CRC64) message bodies are not supported by this lake stand-in.',
      );
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

  async deletePath(fsDir: string, file: string, key: string, q: URLSearchParams, req: IncomingMessage): Promise<Reply> {
    await this.requireFileSystem(fsDir, false);
    const st = await tryStat(file);
    if (!st) throw new LakeError(404, 'PathNotFound', 'The specified path does not exist.');
    checkConditions(req, st, false);
    if (st.isDirectory) {
      const children = await fs.readdir(file);
      if (children.length > 0 && q.get('recursive') !== 'true')
        throw new LakeError(
          409,
          'DirectoryNotEmpty',
          'The recursive query parameter value must be true to delete a non-empty directory.',
        );
      await fs.rm(file, { recursive: true, force: true });
      for (const k of this.pending.keys()) if (k.startsWith(`${key}/`)) this.pending.delete(k);
    } else {
      await fs.rm(file, { force: true });
    }
    this.pending.delete(key);
    return { status: 200, headers: {} };
  }
}
