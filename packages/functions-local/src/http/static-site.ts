/**
 * Static files under a path prefix of the local runtime's HTTP host (the operations console's
 * build at `/console`), as a RawHandler: GET and HEAD only, files from one directory and never
 * outside it, `index.html` for the prefix itself and for any extension-less path below it (the
 * app routes on the client). Hashed build assets are cached for good; the index never is, so a
 * rebuild shows at once. Same-origin only by construction: the host's cross-site guard has run
 * before, and a Content-Security-Policy keeps the page to its own origin.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RawHandler } from './host';

export interface StaticSite {
  /** URL path prefix, e.g. `/console`. */
  readonly prefix: string;
  /** The directory served (a build output); when it is missing the prefix answers 503 naming the build. */
  readonly dir: string;
  /** What to tell the user to run when `dir` is missing. */
  readonly buildHint?: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
  head: boolean,
): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': String(buf.length) });
  res.end(head ? undefined : buf);
}

export function staticSiteHandler(site: StaticSite): RawHandler {
  const prefix = `/${site.prefix.replace(/^\/+|\/+$/g, '')}`;
  const root = path.resolve(site.dir);
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return false;
    const method = (req.method ?? 'GET').toUpperCase();
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'Method not allowed.', false);
      return true;
    }
    const head = method === 'HEAD';
    if (url.pathname === prefix) {
      // Relative asset URLs resolve against the directory, so the prefix itself redirects to it.
      res.writeHead(308, { location: `${prefix}/${url.search}`, 'content-length': '0' });
      res.end();
      return true;
    }
    if (!fs.existsSync(path.join(root, 'index.html'))) {
      send(
        res,
        503,
        { 'content-type': 'text/plain; charset=utf-8' },
        `Nothing is built at ${root}.${site.buildHint ? ` Run ${site.buildHint}.` : ''}`,
        head,
      );
      return true;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(url.pathname.slice(prefix.length + 1));
    } catch {
      send(res, 400, { 'content-type': 'text/plain; charset=utf-8' }, 'Bad path.', head);
      return true;
    }
    const file = path.resolve(root, relative === '' ? 'index.html' : relative);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) {
      send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found.', head);
      return true;
    }
    const isFile = fs.existsSync(file) && fs.statSync(file).isFile();
    const target = isFile ? file : path.extname(file) === '' ? path.join(root, 'index.html') : undefined;
    if (!target) {
      send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, 'Not found.', head);
      return true;
    }
    const hashed = target.startsWith(path.join(root, 'assets') + path.sep);
    send(
      res,
      200,
      {
        'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream',
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
      await fs.promises.readFile(target),
      head,
    );
    return true;
  };
}
