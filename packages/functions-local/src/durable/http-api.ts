/**
 * The Durable extension's HTTP API over the engine, as durable-functions' `DurableClient` calls
 * it when its binding data carries `rpcBaseUrl` (and as the management URLs of
 * `createCheckStatusResponse` point to it): start, status, query, raise event, terminate,
 * suspend/resume, purge. Served from a loopback node:http server, or mounted by another server
 * through the request handler. Just over 300 lines: one route table, kept whole so every route
 * of the API can be read in one place.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DurableEngineError } from './engine';
import type { DurableEngine, DurableEngineErrorCode, InstanceQuery, InstanceStatus } from './engine';
import { buildDurableClientBindingData, managementPayload } from './client-binding';
import type { DurableClientBindingData, HttpManagementPayload } from './client-binding';
import { allowedHostnames, crossSiteVerdictFor } from '../http/cross-site';
import { isTerminal } from './store';
import type { RuntimeStatus } from './store';

/** Where the Functions host serves the extension's webhooks; the client's URLs use this path. */
export const DURABLE_WEBHOOK_PATH = '/runtime/webhooks/durabletask/';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Terminated',
  'Suspended',
];

export interface DurableHttpHandlerOptions {
  /** Path prefix the API lives under, with a trailing slash. Defaults to the host's webhook path. */
  readonly basePath?: string;
  readonly taskHubName?: string;
  /** Origin (scheme://host:port) the management URLs name; defaults to the request's own. */
  readonly publicOrigin?: () => string | undefined;
}

/** Handles a request if it is under the API's path; resolves false (untouched) otherwise. */
export type DurableHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const STATUS_FOR_CODE: Record<DurableEngineErrorCode, number> = {
  InstanceExists: 409,
  InstanceNotFound: 404,
  InstanceGone: 410,
  OrchestratorNotFound: 400,
  NotTerminal: 412,
};

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
    'Content-Length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'The request body is too large.');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body as JSON text, or undefined when empty; malformed JSON is the caller's error. */
function jsonTextOrUndefined(body: string): string | undefined {
  if (body.trim() === '') return undefined;
  try {
    JSON.parse(body);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
  return body;
}

function flag(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  return value.toLowerCase() === 'true';
}

function date(value: string | null, name: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new HttpError(400, `${name} is not a date.`);
  return d;
}

function statuses(value: string | null): RuntimeStatus[] | undefined {
  if (value === null || value === '') return undefined;
  return value.split(',').map((s) => {
    const match = RUNTIME_STATUSES.find((r) => r.toLowerCase() === s.trim().toLowerCase());
    if (!match) throw new HttpError(400, `Unknown runtimeStatus '${s}'.`);
    return match;
  });
}

function queryFrom(params: URLSearchParams): InstanceQuery {
  const query: { -readonly [K in keyof InstanceQuery]: InstanceQuery[K] } = {};
  const runtimeStatus = statuses(params.get('runtimeStatus'));
  const createdTimeFrom = date(params.get('createdTimeFrom'), 'createdTimeFrom');
  const createdTimeTo = date(params.get('createdTimeTo'), 'createdTimeTo');
  const prefix = params.get('instanceIdPrefix');
  const showInput = flag(params.get('showInput'));
  if (runtimeStatus) query.runtimeStatus = runtimeStatus;
  if (createdTimeFrom) query.createdTimeFrom = createdTimeFrom;
  if (createdTimeTo) query.createdTimeTo = createdTimeTo;
  if (prefix) query.instanceIdPrefix = prefix;
  if (showInput !== undefined) query.showInput = showInput;
  return query;
}

export function createDurableHttpHandler(
  engine: DurableEngine,
  options: DurableHttpHandlerOptions = {},
): DurableHttpHandler {
  const basePath = options.basePath ?? DURABLE_WEBHOOK_PATH;
  const taskHubName = options.taskHubName ?? 'LocalTaskHub';
  const bare = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== bare && !url.pathname.startsWith(`${bare}/`)) return false;
    const origin = options.publicOrigin?.() ?? `http://${req.headers.host ?? 'localhost'}`;
    const links = (id: string): HttpManagementPayload => managementPayload(`${origin}${bare}/`, taskHubName, id);
    const segments = url.pathname
      .slice(bare.length)
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      await route(engine, method, segments, url.searchParams, req, res, links);
    } catch (err) {
      if (err instanceof HttpError) send(res, err.status, { message: err.message });
      else if (err instanceof DurableEngineError)
        send(res, STATUS_FOR_CODE[err.code], { message: err.message, code: err.code });
      else send(res, 500, { message: err instanceof Error ? err.message : String(err) });
    }
    return true;
  };
}

async function route(
  engine: DurableEngine,
  method: string,
  segments: string[],
  params: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  links: (id: string) => HttpManagementPayload,
): Promise<void> {
  const [area, first, action, extra] = segments;

  if (area === 'orchestrators' && method === 'POST' && first !== undefined) {
    // orchestrators/{functionName}[/{instanceId}]
    const input = jsonTextOrUndefined(await readBody(req));
    const id = await engine.startNew(first, {
      ...(action !== undefined ? { instanceId: action } : {}),
      ...(input !== undefined ? { input: JSON.parse(input) as unknown } : {}),
    });
    const payload = links(id);
    send(res, 202, payload, { Location: payload.statusQueryGetUri, 'Retry-After': '10' });
    return;
  }

  if (area === 'instances' && first === undefined) {
    if (method === 'GET') return listInstances(engine, params, req, res);
    if (method === 'DELETE') {
      const deleted = await engine.purgeWhere(queryFrom(params));
      if (deleted === 0) return send(res, 404, { message: 'No instances matched.' });
      return send(res, 200, { instancesDeleted: deleted });
    }
  }

  if (area === 'instances' && first !== undefined) {
    if (method === 'GET' && action === undefined) {
      const status = await engine.getStatus(first, {
        showHistory: flag(params.get('showHistory')) ?? false,
        showHistoryOutput: flag(params.get('showHistoryOutput')) ?? false,
        showInput: flag(params.get('showInput')) ?? true,
      });
      if (!status) return send(res, 404, { message: `No instance with ID '${first}' found.` });
      // As the extension does: 200 once finished, 202 while still going.
      return send(
        res,
        isTerminal(status.runtimeStatus) ? 200 : 202,
        status,
        isTerminal(status.runtimeStatus) ? {} : { Location: links(first).statusQueryGetUri },
      );
    }
    if (method === 'DELETE' && action === undefined) {
      const deleted = await engine.purge(first);
      if (!deleted) return send(res, 404, { message: `No instance with ID '${first}' found.` });
      return send(res, 200, { instancesDeleted: 1 });
    }
    if (method === 'POST' && action === 'raiseEvent' && extra !== undefined) {
      const input = jsonTextOrUndefined(await readBody(req));
      await engine.raiseEventJson(first, extra, input);
      return send(res, 202);
    }
    if (method === 'POST' && action === 'terminate') {
      await engine.terminate(first, params.get('reason') ?? '');
      return send(res, 202);
    }
    if (method === 'POST' && action === 'suspend') {
      await engine.suspend(first, params.get('reason') ?? '');
      return send(res, 202);
    }
    if (method === 'POST' && action === 'resume') {
      await engine.resume(first, params.get('reason') ?? '');
      return send(res, 202);
    }
    if (method === 'POST' && (action === 'rewind' || action === 'restart')) {
      throw new HttpError(501, `${action} is not supported by the local orchestration engine.`);
    }
  }

  if (area === 'entities')
    throw new HttpError(501, 'Durable entities are not supported by the local orchestration engine.');
  throw new HttpError(404, 'Not found.');
}

/** The extension's page size when a query names no `top` (OrchestrationStatusQueryCondition). */
export const DEFAULT_INSTANCE_PAGE_SIZE = 100;

/**
 * GET instances: filters from the query string, one page of `top` (100 when not given, as the
 * extension does) and an `x-ms-continuation-token` header while more remain; the client follows
 * it. Only the page's statuses are built, so a page costs the same whatever is in flight.
 */
async function listInstances(
  engine: DurableEngine,
  params: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const topText = params.get('top');
  const asked = topText === null ? DEFAULT_INSTANCE_PAGE_SIZE : Number.parseInt(topText, 10);
  const top = Number.isFinite(asked) && asked > 0 ? asked : DEFAULT_INSTANCE_PAGE_SIZE;
  const tokenHeader = req.headers['x-ms-continuation-token'];
  const offset = typeof tokenHeader === 'string' ? Math.max(0, Number.parseInt(tokenHeader, 10) || 0) : 0;
  // One more than the page, to know whether another follows.
  const found: InstanceStatus[] = await engine.listInstances(queryFrom(params), { offset, count: top + 1 });
  const next: Record<string, string> = found.length > top ? { 'x-ms-continuation-token': String(offset + top) } : {};
  send(res, 200, found.slice(0, top), next);
}

export interface DurableHttpServer {
  /** `http://127.0.0.1:port` */
  readonly origin: string;
  /** The API's base URL, with a trailing slash: what the client's `rpcBaseUrl` is set to. */
  readonly rpcBaseUrl: string;
  /** The `durableClient` input binding data pointing at this server. */
  clientBindingData(): DurableClientBindingData;
  close(): Promise<void>;
}

export interface DurableHttpServerOptions {
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly taskHubName?: string;
  /** Origin the management URLs name (the host users reach); defaults to this server's. */
  readonly publicOrigin?: string;
}

/** Serves the API on loopback. */
export async function startDurableHttpServer(
  engine: DurableEngine,
  options: DurableHttpServerOptions = {},
): Promise<DurableHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const taskHubName = options.taskHubName ?? 'LocalTaskHub';
  let origin = '';
  const handler = createDurableHttpHandler(engine, {
    basePath: DURABLE_WEBHOOK_PATH,
    taskHubName,
    publicOrigin: () => options.publicOrigin ?? origin,
  });
  const hostnames = allowedHostnames(host);
  const server = http.createServer((req, res) => {
    // The same cross-site rules as the local runtime's HTTP host (http/cross-site.ts).
    const refused = crossSiteVerdictFor(req, hostnames);
    if (refused) {
      req.resume();
      send(res, refused.status, { message: refused.detail });
      return;
    }
    handler(req, res)
      .then((handled) => {
        if (!handled) send(res, 404, { message: 'Not found.' });
      })
      .catch((err: unknown) => {
        if (!res.headersSent) send(res, 500, { message: err instanceof Error ? err.message : String(err) });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  origin = `http://${host}:${address.port}`;
  const rpcBaseUrl = `${origin}${DURABLE_WEBHOOK_PATH}`;
  return {
    origin,
    rpcBaseUrl,
    clientBindingData: () =>
      buildDurableClientBindingData({
        rpcBaseUrl,
        taskHubName,
        publicBaseUrl: `${options.publicOrigin ?? origin}${DURABLE_WEBHOOK_PATH}`,
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
