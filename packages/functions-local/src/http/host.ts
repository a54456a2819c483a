/**
 * The local stand-in for the Functions host's HTTP front end: a node:http server that routes
 * `/{routePrefix}/...` requests to registered `httpTrigger` functions (route templates,
 * constraints, methods), hands them a real `HttpRequest` from `@azure/functions`, and writes the
 * handler's `HttpResponseInit`/`HttpResponse` back. Other parts of the local runtime mount their
 * own endpoints beside it (`addRoute`, e.g. `POST /local/eventhubs/{hub}`).
 *
 * Identity: in Azure, App Service Authentication strips client-sent `x-ms-client-principal*`
 * headers and sets its own. Locally `trustClientPrincipalHeaders` (default true) lets callers,
 * such as the end-to-end tests, send them; set it to false to strip them as Azure would. A
 * `devPrincipal` is added to requests that carry no principal, for poking at the API by hand.
 *
 * Cross-site use is refused before anything else, raw handlers included (cross-site.ts): a
 * foreign Host or Origin gets 403, a non-JSON POST to /local/* or the durable API 415.
 *
 * Over 300 lines: routing, body limits, identity headers and the response writer are one request path.
 */
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest, HttpResponse } from '@azure/functions';
import type { Cookie, HttpResponseInit } from '@azure/functions';
import { plainPrincipalHeaders, plainProblem } from './options';
import type { Principal, PrincipalHeaders, ProblemResponder } from './options';
import { checkRoutePrefix } from '../core/functions-core';
import type { RegisteredFunction } from '../core/functions-core';
import { allowedHostnames, crossSiteVerdictFor } from './cross-site';
import { consoleLogger, createInvocationContext, describeError } from '../host/invocation';
import type { AfterInvocation, LocalLogger } from '../host/invocation';
import { comparePrecedence, compileRouteTemplate, splitPath } from './route-template';
import type { RouteTemplate } from './route-template';
import { staticSiteHandler } from './static-site';
import type { StaticSite } from './static-site';

export const DEFAULT_HTTP_PORT = 7071;
/** The Functions host's own request size limit (100 MB). */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

export interface LocalRequest {
  readonly method: string;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface LocalResponse {
  readonly status: number;
  /** A list value sends the header once per item (Set-Cookie). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Buffer;
}

/** An endpoint of the local runtime itself (not a function); `path` is a full route template. */
export interface LocalRoute {
  readonly methods: readonly string[];
  readonly path: string;
  handle(request: LocalRequest): Promise<LocalResponse> | LocalResponse;
}

/**
 * Serves a request with the raw node:http objects before routing, for APIs that own a whole path
 * (the Durable extension's webhooks). Resolves true when it answered, false to let routing go on.
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface HttpHostOptions {
  /** Registered functions; only `httpTrigger` ones are routed. */
  readonly functions: readonly RegisteredFunction[];
  readonly hostname?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** host.json `extensions.http.routePrefix` (default `api`; empty string for none). */
  readonly routePrefix?: string;
  readonly devPrincipal?: Principal;
  /** How `devPrincipal` is written into the request (default: id and name headers only). */
  readonly principalHeaders?: PrincipalHeaders;
  /** Error responses the host itself writes (default: plain RFC 9457 problem details). */
  readonly problem?: ProblemResponder;
  readonly trustClientPrincipalHeaders?: boolean;
  readonly maxBodyBytes?: number;
  readonly routes?: readonly LocalRoute[];
  /** Tried in order before routing. */
  readonly rawHandlers?: readonly RawHandler[];
  /** Static files under a path prefix (the operations console), served after the raw handlers. */
  readonly staticSites?: readonly StaticSite[];
  readonly logger?: LocalLogger;
  readonly afterInvocation?: AfterInvocation;
}

interface RouteEntry {
  readonly template: RouteTemplate;
  readonly methods: ReadonlySet<string> | 'any';
  readonly target:
    | { readonly kind: 'function'; readonly fn: RegisteredFunction }
    | { readonly kind: 'local'; readonly route: LocalRoute };
}

const PRINCIPAL_HEADER = /^x-ms-client-principal/i;

class BodyTooLarge extends Error {}

function toInit(problem: HttpResponseInit): LocalResponse {
  return {
    status: problem.status ?? 500,
    headers: problem.headers as Record<string, string>,
    body: String(problem.body ?? ''),
  };
}

function serializeCookie(c: Cookie): string {
  const parts = [`${c.name}=${encodeURIComponent(c.value)}`];
  if (c.domain) parts.push(`Domain=${c.domain}`);
  if (c.path) parts.push(`Path=${c.path}`);
  if (c.expires !== undefined) parts.push(`Expires=${new Date(c.expires).toUTCString()}`);
  if (c.maxAge !== undefined) parts.push(`Max-Age=${Math.trunc(c.maxAge)}`);
  if (c.secure) parts.push('Secure');
  if (c.httpOnly) parts.push('HttpOnly');
  if (c.sameSite) parts.push(`SameSite=${c.sameSite}`);
  return parts.join('; ');
}

export class HttpHost {
  readonly #options: HttpHostOptions;
  readonly #routes: RouteEntry[] = [];
  readonly #logger: LocalLogger;
  readonly #server: http.Server;
  readonly #hostnames: ReadonlySet<string>;
  readonly #problem: ProblemResponder;
  readonly #rawHandlers: readonly RawHandler[];
  #url: string | undefined;

  constructor(options: HttpHostOptions) {
    this.#options = options;
    this.#problem = options.problem ?? plainProblem;
    this.#logger = options.logger ?? consoleLogger;
    this.#hostnames = allowedHostnames(options.hostname ?? '127.0.0.1');
    this.#rawHandlers = [...(options.rawHandlers ?? []), ...(options.staticSites ?? []).map(staticSiteHandler)];
    const prefix = (options.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
    checkRoutePrefix(prefix);
    for (const fn of options.functions) {
      if (fn.trigger.type.toLowerCase() !== 'httptrigger') continue;
      const route = typeof fn.trigger.route === 'string' && fn.trigger.route !== '' ? fn.trigger.route : fn.name;
      const methods = Array.isArray(fn.trigger.methods)
        ? new Set((fn.trigger.methods as unknown[]).map((m) => String(m).toUpperCase()))
        : 'any';
      const template = compileRouteTemplate(`${prefix}/${route.replace(/^\/+/, '')}`);
      this.#add({ template, methods, target: { kind: 'function', fn } });
    }
    for (const route of options.routes ?? []) this.addRoute(route);
    this.#server = http.createServer((req, res) => void this.handle(req, res));
  }

  addRoute(route: LocalRoute): void {
    const methods = new Set(route.methods.map((m) => m.toUpperCase()));
    this.#add({ template: compileRouteTemplate(route.path), methods, target: { kind: 'local', route } });
  }

  #add(entry: RouteEntry): void {
    this.#routes.push(entry);
    this.#routes.sort((a, b) => comparePrecedence(a.template.precedence, b.template.precedence));
  }

  /** The base URL once listening, e.g. `http://127.0.0.1:7071`. */
  get url(): string {
    if (!this.#url) throw new Error('The HTTP host is not listening.');
    return this.#url;
  }

  async listen(): Promise<string> {
    const hostname = this.#options.hostname ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port ?? DEFAULT_HTTP_PORT, hostname, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** The request listener; usable on a server of the caller's own. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let response: LocalResponse;
    const refused = crossSiteVerdictFor(req, this.#hostnames);
    if (refused) {
      req.resume();
      this.#write(
        res,
        toInit(
          this.#problem(
            refused.status,
            refused.status === 403 ? 'forbidden' : 'unsupported-media-type',
            refused.title,
            refused.detail,
          ),
        ),
      );
      return;
    }
    try {
      for (const raw of this.#rawHandlers) {
        if (await raw(req, res)) return;
      }
      response = await this.#respond(req);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        response = toInit(this.#problem(413, 'payload-too-large', 'Payload too large.', e.message));
      } else {
        this.#logger(
          'error',
          'Host.Http',
          `Unhandled failure for ${req.method} ${req.url}: ${(e as Error).stack ?? describeError(e)}`,
        );
        response = toInit(
          this.#problem(
            500,
            'internal-error',
            'Internal server error.',
            'The local host failed to handle the request.',
          ),
        );
      }
    }
    this.#write(res, response);
  }

  async #respond(req: IncomingMessage): Promise<LocalResponse> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    let segments: string[];
    try {
      segments = splitPath(url.pathname).map((s) => decodeURIComponent(s));
    } catch {
      return toInit(this.#problem(400, 'bad-request', 'Bad request.', 'The path is not valid URL encoding.'));
    }
    const allowed = new Set<string>();
    let found: { entry: RouteEntry; params: Record<string, string> } | undefined;
    for (const entry of this.#routes) {
      const params = entry.template.match(segments);
      if (!params) continue;
      if (entry.methods === 'any' || entry.methods.has(method)) {
        found = { entry, params };
        break;
      }
      for (const m of entry.methods) allowed.add(m);
    }
    if (!found) {
      if (allowed.size > 0) {
        return toInit(
          this.#problem(
            405,
            'method-not-allowed',
            'Method not allowed.',
            `${method} is not allowed on ${url.pathname}.`,
            {
              headers: { allow: [...allowed].sort().join(', ') },
            },
          ),
        );
      }
      return toInit(this.#problem(404, 'not-found', 'Not found.', `Nothing is served at ${url.pathname}.`));
    }
    const body = await this.#readBody(req);
    const { entry, params } = found;
    if (entry.target.kind === 'local') {
      return entry.target.route.handle({ method, url, params, headers: req.headers, body });
    }
    return this.#invoke(entry.target.fn, method, url, params, req.headers, body);
  }

  async #readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.#options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const declared = Number(req.headers['content-length']);
    const tooLarge = (): BodyTooLarge => new BodyTooLarge(`The request body exceeds ${limit} bytes.`);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) {
        req.resume();
        throw tooLarge();
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  }

  #requestHeaders(raw: IncomingHttpHeaders): Record<string, string> {
    const headers: Record<string, string> = {};
    const trust = this.#options.trustClientPrincipalHeaders ?? true;
    for (const [name, value] of Object.entries(raw)) {
      if (value === undefined) continue;
      if (!trust && PRINCIPAL_HEADER.test(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const dev = this.#options.devPrincipal;
    if (dev && !headers['x-ms-client-principal-id'])
      Object.assign(headers, (this.#options.principalHeaders ?? plainPrincipalHeaders)(dev));
    return headers;
  }

  async #invoke(
    fn: RegisteredFunction,
    method: string,
    url: URL,
    params: Record<string, string>,
    rawHeaders: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<LocalResponse> {
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: this.#requestHeaders(rawHeaders),
      params,
      ...(body.length > 0 && method !== 'GET' && method !== 'HEAD' ? { body: { bytes: body } } : {}),
    });
    const context = createInvocationContext(fn, { logger: this.#logger });
    try {
      const result = await fn.handler(request, context);
      await this.#options.afterInvocation?.(fn, context, result);
      return await this.#toLocal(result);
    } catch (e) {
      this.#logger(
        'error',
        `Function.${fn.name}`,
        `Invocation ${context.invocationId} failed: ${(e as Error).stack ?? describeError(e)}`,
      );
      return toInit(
        this.#problem(
          500,
          'internal-error',
          'Internal server error.',
          `The function failed (invocation ${context.invocationId}).`,
        ),
      );
    }
  }

  async #toLocal(result: unknown): Promise<LocalResponse> {
    // A handler that returns nothing answers with an empty response.
    if (result === undefined || result === null) return { status: 204 };
    if (typeof result !== 'object')
      throw new Error('An HTTP handler must return an HttpResponseInit or HttpResponse object.');
    const response = result instanceof HttpResponse ? result : new HttpResponse(result as HttpResponseInit);
    const headers: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers[name] = value;
    });
    const cookies = [...response.headers.getSetCookie(), ...response.cookies.map(serializeCookie)];
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
  }

  #write(res: ServerResponse, response: LocalResponse): void {
    const body =
      response.body === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(response.body)
          ? response.body
          : Buffer.from(response.body, 'utf8');
    for (const [name, value] of Object.entries(response.headers ?? {}))
      res.setHeader(name, typeof value === 'string' ? value : [...value]);
    if (response.status !== 204 && response.status !== 304) res.setHeader('content-length', body.length);
    res.statusCode = response.status;
    res.end(response.status === 204 || response.status === 304 ? undefined : body);
  }
}

export async function startHttpHost(options: HttpHostOptions): Promise<HttpHost> {
  const host = new HttpHost(options);
  await host.listen();
  return host;
}
