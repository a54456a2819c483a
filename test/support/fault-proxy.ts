/**
 * A loopback HTTP proxy in front of a real stand-in that can inject faults: answer the next N
 * matching requests with a status (503, 429…) or drop their connections. The SDK under test
 * talks to the proxy exactly as it would to the service, so its own retry and error paths run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { kind: 'status'; status: number; headers?: Record<string, string> } | { kind: 'drop' };

export interface FaultProxy {
  readonly url: string;
  /** Fails the next `count` requests matching `filter` (method and path) with `fault`. */
  failNext(count: number, fault: Fault, filter?: (method: string, path: string) => boolean): void;
  /** Fails every matching request until `heal()`. */
  failAll(fault: Fault, filter?: (method: string, path: string) => boolean): void;
  heal(): void;
  readonly injected: number;
  readonly forwarded: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let remaining = 0;
  let forever = false;
  let fault: Fault = { kind: 'status', status: 503 };
  let filter: (method: string, path: string) => boolean = () => true;
  let injected = 0;
  let forwarded = 0;

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if ((forever || remaining > 0) && filter(method, path)) {
      if (!forever) remaining--;
      injected++;
      req.resume();
      if (fault.kind === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(
        JSON.stringify({
          code: fault.status === 429 ? 'TooManyRequests' : 'ServiceUnavailable',
          message: 'injected fault',
        }),
      );
      return;
    }
    forwarded++;
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method, path, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    failNext(count, f, fl = () => true) {
      remaining = count;
      forever = false;
      fault = f;
      filter = fl;
    },
    failAll(f, fl = () => true) {
      forever = true;
      fault = f;
      filter = fl;
    },
    heal() {
      remaining = 0;
      forever = false;
    },
    get injected() {
      return injected;
    },
    get forwarded() {
      return forwarded;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
