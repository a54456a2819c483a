/**
 * The local runtime refuses cross-site use. It listens on loopback without authentication, so a
 * web page the developer opens could otherwise POST to it (CSRF) or, by DNS rebinding a name of
 * its own to 127.0.0.1, read its answers. Every listener of the runtime (app routes, /local/*,
 * the durable API) applies the same three rules before routing:
 *
 * - `Host` must name the address the server listens on or a loopback name (127.0.0.1,
 *   localhost, [::1]), with the port it listens on: otherwise 403 (a rebound name fails here).
 * - `Origin`, when present, must be the runtime's own (http:// and an allowed Host): otherwise
 *   403 on every route. Browsers send Origin on every cross-origin request and on every POST.
 * - POST, PUT and PATCH to /local/* and the durable API need `content-type: application/json`:
 *   otherwise 415. A page can send a "simple" cross-origin POST only as text/plain, form or
 *   multipart; anything else needs a CORS preflight, which this server never grants. DELETE
 *   (purge) needs a preflight in any case, so it carries no body and no content type.
 *
 * curl, the tools, the tests and the durable client send no Origin and the listener's own Host.
 */
import type { IncomingMessage } from 'node:http';

export const LOOPBACK_NAMES: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

/** Paths whose mutating requests must be JSON. */
export const JSON_ONLY_PATHS: readonly string[] = ['/local/', '/runtime/webhooks/durabletask/'];

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export interface CrossSiteRefusal {
  readonly status: 403 | 415;
  readonly title: string;
  readonly detail: string;
}

export interface CrossSiteRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly contentType: string | undefined;
}

/** Hostnames (lower case, IPv6 in brackets) a Host header may carry for a server listening on `listenHostname`. */
export function allowedHostnames(listenHostname: string): Set<string> {
  const own = listenHostname.includes(':') && !listenHostname.startsWith('[') ? `[${listenHostname}]` : listenHostname;
  const names = new Set(LOOPBACK_NAMES);
  // A wildcard listener has no address of its own to be named by: loopback names only.
  if (own !== '0.0.0.0' && own !== '[::]') names.add(own.toLowerCase());
  return names;
}

function hostIsAllowed(host: string, hostnames: ReadonlySet<string>, port: number): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+):(\d+)$/i.exec(host.trim());
  if (!m?.[1] || !m[2]) return false;
  return hostnames.has(m[1].toLowerCase()) && Number(m[2]) === port;
}

export function crossSiteVerdict(
  request: CrossSiteRequest,
  hostnames: ReadonlySet<string>,
  port: number,
): CrossSiteRefusal | undefined {
  if (request.host === undefined || !hostIsAllowed(request.host, hostnames, port)) {
    return {
      status: 403,
      title: 'Forbidden host.',
      detail: `The local runtime answers only requests addressed to ${[...hostnames].map((h) => `${h}:${port}`).join(', ')} (Host was ${request.host === undefined ? 'absent' : `"${request.host}"`}).`,
    };
  }
  if (request.origin !== undefined) {
    let ownOrigin = false;
    try {
      const url = new URL(request.origin);
      ownOrigin = url.protocol === 'http:' && url.pathname === '/' && hostIsAllowed(url.host, hostnames, port);
    } catch {
      ownOrigin = false;
    }
    if (!ownOrigin) {
      return {
        status: 403,
        title: 'Cross-origin request refused.',
        detail: `Web pages cannot use the local runtime (Origin "${request.origin}" is not its own).`,
      };
    }
  }
  if (BODY_METHODS.has(request.method) && JSON_ONLY_PATHS.some((p) => request.path.startsWith(p))) {
    const media = request.contentType?.split(';')[0]?.trim().toLowerCase();
    if (media !== 'application/json') {
      return {
        status: 415,
        title: 'Unsupported media type.',
        detail: `${request.method} ${request.path} needs content-type: application/json (got ${request.contentType === undefined ? 'none' : `"${request.contentType}"`}).`,
      };
    }
  }
  return undefined;
}

/** The verdict for a node:http request, on the port its socket was accepted on. */
export function crossSiteVerdictFor(
  req: IncomingMessage,
  hostnames: ReadonlySet<string>,
): CrossSiteRefusal | undefined {
  const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  return crossSiteVerdict(
    {
      method: (req.method ?? 'GET').toUpperCase(),
      path,
      host: single(req.headers.host),
      origin: single(req.headers.origin),
      contentType: single(req.headers['content-type']),
    },
    hostnames,
    req.socket.localPort ?? -1,
  );
}
