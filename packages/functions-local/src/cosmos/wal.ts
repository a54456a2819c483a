/**
 * Durability for the Cosmos DB stand-in. `@vercel/cosmosdb-server` keeps everything in memory;
 * this module puts a write-ahead log in its request path so its state survives `kill -9`.
 *
 * Every mutating request the server answers with success (create/replace/upsert/patch/delete of
 * databases, containers, documents and UDFs; the successful operations of a batch) is appended to
 * `<dir>/cosmos.wal` as one JSON line (method, path, the headers that change what the server does,
 * body) before the response leaves the process. At startup a fresh server replays the log before
 * anyone else is served, then the log is compacted when it has grown much larger than the state it
 * describes.
 *
 * Why in the request path of the in-process server instead of a proxy on its own port: the server
 * applies a mutation and writes its response in the same turn of the event loop, so logging when
 * the response is written records mutations in exactly the order they were applied. A proxy would
 * see responses of concurrent requests in socket order, which may differ.
 *
 * Conditions are dropped from the log (If-Match/If-None-Match headers, `ifMatch` of batch
 * operations): the request succeeded, so its replay must succeed too, and ETags are random per
 * server lifetime (documents get new ETags and `_ts` after a restart; clients holding an old ETag
 * get a 412 and read again, as after any concurrent write).
 *
 * Durability model, as for the local hubs: a line is written with a synchronous write before the
 * client hears back (no fsync: the bytes survive the process, not a power cut). A torn last line
 * was never acknowledged and is dropped.
 *
 * Over 450 lines: recording, replay at start-up and compaction share one log format and the
 * stand-in's request shapes; together, the at-least-once argument reads in one place.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { createHttpServer } from '@vercel/cosmosdb-server';
import { installLinearQueries } from './linear-queries';
import { installSharedShapes } from './shared-shapes';
import { COSMOS_EMULATOR_KEY } from '../host/standins';
import type { CosmosHandle } from '../host/standins';

export const WAL_FILE = 'cosmos.wal';

/** One logged mutation. */
export interface WalEntry {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request body as text; absent for bodiless requests (deletes). */
  readonly body?: string;
}

export interface DurableCosmosOptions {
  /** Directory holding the log; created when missing. */
  readonly dir: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /**
   * Compact at startup when the log holds more than this many entries beyond twice the number of
   * live resources. Default 1000.
   */
  readonly compactSlack?: number;
}

export interface DurableCosmosHandle extends CosmosHandle {
  /** Mutations replayed at startup. */
  readonly replayed: number;
  /** Entries the log holds after startup (after any compaction). */
  readonly logEntries: number;
  readonly logFile: string;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Headers that do not change what a replayed request does, or must not apply to it. */
const DROPPED_HEADERS = new Set([
  'authorization',
  'x-ms-date',
  'if-match',
  'if-none-match',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'user-agent',
  'accept',
  'accept-encoding',
  'x-ms-session-token',
  'x-ms-activity-id',
  'cache-control',
]);
/** Marks the runtime's own replay requests: served while others wait, and not logged again. */
const REPLAY_HEADER = 'x-fabrikam-wal-replay';
const SYSTEM_PROPERTIES = ['_rid', '_self', '_etag', '_ts', '_attachments'];

function isTrue(value: string | string[] | undefined): boolean {
  return String(value).toLowerCase() === 'true';
}

/** A POST that reads (queries, query plans) rather than writes. */
function isReadOnlyPost(req: IncomingMessage): boolean {
  return (
    isTrue(req.headers['x-ms-documentdb-isquery']) ||
    req.headers['content-type'] === 'application/query+json' ||
    isTrue(req.headers['x-ms-cosmos-is-query-plan-request'])
  );
}

function loggedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || DROPPED_HEADERS.has(name) || name === REPLAY_HEADER) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A batch is not atomic in the stand-in: the operations that succeeded are its effect. They are
 * logged as a batch of just those, unconditional and continuing on error, so the replay applies
 * exactly them. Undefined when nothing was written.
 */
function batchEffect(requestBody: string, responseBody: string): string | undefined {
  let ops: unknown;
  let results: unknown;
  try {
    ops = JSON.parse(requestBody);
    results = JSON.parse(responseBody);
  } catch {
    return undefined;
  }
  if (!Array.isArray(ops) || !Array.isArray(results)) return undefined;
  const applied: Record<string, unknown>[] = [];
  ops.forEach((op: unknown, i) => {
    const result: unknown = results[i];
    if (!isRecord(op) || !isRecord(result)) return;
    const status = typeof result.statusCode === 'number' ? result.statusCode : 500;
    if (status >= 400 || String(op.operationType).toLowerCase() === 'read') return;
    const { ifMatch: _ifMatch, ifNoneMatch: _ifNoneMatch, ...rest } = op;
    applied.push(rest);
  });
  return applied.length > 0 ? JSON.stringify(applied) : undefined;
}

/** Appends lines with synchronous writes, so a line is in the file before the response is sent. */
class WalWriter {
  #fd: number | undefined;
  #entries: number;

  constructor(
    readonly file: string,
    entries: number,
  ) {
    this.#fd = fs.openSync(file, 'a');
    this.#entries = entries;
  }

  get entries(): number {
    return this.#entries;
  }

  append(entry: WalEntry): void {
    if (this.#fd === undefined) throw new Error(`${this.file} is closed.`);
    const bytes = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.#fd, bytes, written, bytes.length - written);
    this.#entries++;
  }

  close(): void {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Reads the log; a torn last line (a write cut short by a crash) is dropped and truncated away. */
export function readWal(file: string): WalEntry[] {
  if (!fs.existsSync(file)) return [];
  const data = fs.readFileSync(file);
  const entries: WalEntry[] = [];
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(0x0a, start);
    if (end === -1) break;
    const text = data.subarray(start, end).toString('utf8');
    try {
      const parsed = JSON.parse(text) as unknown;
      if (
        !isRecord(parsed) ||
        typeof parsed.method !== 'string' ||
        typeof parsed.path !== 'string' ||
        !isRecord(parsed.headers)
      ) {
        throw new Error('not a log entry');
      }
      entries.push(parsed as unknown as WalEntry);
    } catch (e) {
      throw new Error(`${file}: unreadable entry at byte ${start}: ${(e as Error).message}`);
    }
    start = end + 1;
  }
  if (start < data.length) fs.truncateSync(file, start);
  return entries;
}

/** A request object the server's handler can read: its own stream over the already-read body. */
function requestWithBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = new PassThrough();
  stream.end(body);
  return Object.assign(stream, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    httpVersion: req.httpVersion,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Wraps the server's request listener: mutations are logged when their successful response is
 * written, and outside requests wait until the replay is done.
 */
function walListener(
  inner: RequestListener,
  state: { writer?: WalWriter; ready: Promise<void>; replayToken: string },
): RequestListener {
  return (req, res) => {
    void (async () => {
      const replaying = req.headers[REPLAY_HEADER] === state.replayToken;
      if (!replaying) await state.ready;
      const method = (req.method ?? 'GET').toUpperCase();
      const mutating = MUTATING.has(method) && !(method === 'POST' && isReadOnlyPost(req));
      if (!mutating || replaying) {
        inner(req, res);
        return;
      }
      const body = await readAll(req);
      const bodyText = body.toString('utf8');
      const isBatch = isTrue(req.headers['x-ms-cosmos-is-batch-request']);
      const headers = loggedHeaders(req);
      const requestPath = req.url ?? '/';
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      // The server writes its whole answer with one `end(text)` right after applying the change.
      res.end = ((...args: unknown[]): ServerResponse => {
        const status = res.statusCode;
        if (status >= 200 && status < 300 && state.writer) {
          if (isBatch) {
            const first = args[0];
            const responseText =
              typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString('utf8') : '';
            const effect = batchEffect(bodyText, responseText);
            if (effect !== undefined) {
              state.writer.append({
                method,
                path: requestPath,
                headers: {
                  ...headers,
                  'x-ms-cosmos-batch-atomic': 'false',
                  'x-ms-cosmos-batch-continue-on-error': 'true',
                },
                body: effect,
              });
            }
          } else {
            state.writer.append({ method, path: requestPath, headers, ...(body.length > 0 ? { body: bodyText } : {}) });
          }
        }
        return end(...args);
      }) as ServerResponse['end'];
      inner(requestWithBody(req, body), res);
    })().catch((e: unknown) => {
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json');
      }
      res.end(JSON.stringify({ message: `WAL failure: ${(e as Error).message}` }));
    });
  };
}

function send(
  agent: http.Agent,
  port: number,
  entry: WalEntry,
  token: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = entry.body === undefined ? undefined : Buffer.from(entry.body, 'utf8');
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: entry.method,
        path: entry.path,
        headers: {
          ...entry.headers,
          [REPLAY_HEADER]: token,
          ...(body ? { 'content-length': String(body.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Rebuilds the log from the server's state: databases, containers (with their definitions) and documents. */
async function snapshot(endpoint: string, replayToken: string): Promise<WalEntry[] | undefined> {
  const client = new CosmosClient({
    endpoint,
    key: COSMOS_EMULATOR_KEY,
    connectionPolicy: { enableEndpointDiscovery: false },
    defaultHeaders: { [REPLAY_HEADER]: replayToken },
  });
  try {
    return await snapshotWith(client);
  } finally {
    client.dispose();
  }
}

async function snapshotWith(client: CosmosClient): Promise<WalEntry[] | undefined> {
  const entries: WalEntry[] = [];
  const json = { 'content-type': 'application/json' };
  const { resources: databases } = await client.databases.readAll().fetchAll();
  for (const db of databases) {
    entries.push({ method: 'POST', path: '/dbs', headers: json, body: JSON.stringify({ id: db.id }) });
    const database = client.database(db.id);
    const { resources: containers } = await database.containers.readAll().fetchAll();
    for (const def of containers) {
      const { resources: udfs } = await database.container(def.id).scripts.userDefinedFunctions.readAll().fetchAll();
      // Anything beyond documents (UDFs) is rare here; keep the full log rather than lose it.
      if (udfs.length > 0) return undefined;
      const definition: Record<string, unknown> = { id: def.id, partitionKey: def.partitionKey };
      if (def.defaultTtl !== undefined) definition.defaultTtl = def.defaultTtl;
      if (def.indexingPolicy !== undefined) definition.indexingPolicy = def.indexingPolicy;
      if (def.uniqueKeyPolicy !== undefined) definition.uniqueKeyPolicy = def.uniqueKeyPolicy;
      const collPath = `/dbs/${encodeURIComponent(db.id)}/colls`;
      entries.push({ method: 'POST', path: collPath, headers: json, body: JSON.stringify(definition) });
      const keyPath = (def.partitionKey?.paths?.[0] ?? '/id').split('/').filter((s) => s !== '');
      const { resources: docs } = await database.container(def.id).items.readAll<Record<string, unknown>>().fetchAll();
      for (const doc of docs) {
        const clean = Object.fromEntries(Object.entries(doc).filter(([k]) => !SYSTEM_PROPERTIES.includes(k)));
        let key: unknown = clean;
        for (const segment of keyPath) key = isRecord(key) ? key[segment] : undefined;
        entries.push({
          method: 'POST',
          path: `${collPath}/${encodeURIComponent(def.id)}/docs`,
          headers: {
            ...json,
            'x-ms-documentdb-is-upsert': 'true',
            'x-ms-documentdb-partitionkey': JSON.stringify([key === undefined ? {} : key]),
          },
          body: JSON.stringify(clean),
        });
      }
    }
  }
  return entries;
}

/** Replaces the log with `entries` atomically (temp file, then rename). */
function rewriteWal(file: string, entries: readonly WalEntry[]): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
  fs.renameSync(temp, file);
}

/**
 * Starts the Cosmos DB stand-in on loopback with its state kept in `<dir>/cosmos.wal`: replays
 * the log, compacts it when worthwhile, then serves.
 */
export async function startDurableCosmos(options: DurableCosmosOptions): Promise<DurableCosmosHandle> {
  fs.mkdirSync(options.dir, { recursive: true });
  const file = path.join(options.dir, WAL_FILE);
  const host = '127.0.0.1';
  installLinearQueries();
  installSharedShapes();
  const server: Server = createHttpServer({ keepAlive: true });
  // Idle connections stay open (the clients are this machine's own): with Node's 5 s a client could send on
  // one the server was closing, and fail with "socket hang up" (nodejs/node #20256).
  server.keepAliveTimeout = 0;
  const [inner] = server.listeners('request') as RequestListener[];
  if (!inner) throw new Error('cosmosdb-server registered no request listener.');
  server.removeAllListeners('request');
  let open: () => void = () => undefined;
  const state: { writer?: WalWriter; ready: Promise<void>; replayToken: string } = {
    ready: new Promise<void>((resolve) => (open = resolve)),
    replayToken: randomUUID(),
  };
  server.on('request', walListener(inner, state));
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const endpoint = `http://${host}:${port}`;
  const stopServer = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  let replayed = 0;
  let logEntries = 0;
  try {
    const entries = readWal(file);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (const entry of entries) {
        const { status, text } = await send(agent, port, entry, state.replayToken);
        // Every entry succeeded once on the same state; anything else means the log and the server disagree.
        if (status < 200 || status >= 300)
          throw new Error(`replaying ${entry.method} ${entry.path} answered ${status}: ${text.slice(0, 200)}`);
        replayed++;
      }
    } finally {
      agent.destroy();
    }
    logEntries = entries.length;
    const slack = options.compactSlack ?? 1000;
    if (entries.length > slack) {
      const snap = await snapshot(endpoint, state.replayToken);
      if (snap && entries.length > 2 * snap.length + slack) {
        rewriteWal(file, snap);
        logEntries = snap.length;
      }
    }
    state.writer = new WalWriter(file, logEntries);
    open();
  } catch (e) {
    await stopServer();
    throw new Error(`The Cosmos DB stand-in could not restore ${file}: ${(e as Error).message}`);
  }

  return {
    endpoint,
    key: COSMOS_EMULATOR_KEY,
    replayed,
    logEntries,
    logFile: file,
    stop: async () => {
      await stopServer();
      state.writer?.close();
      state.writer = undefined;
    },
  };
}
