/**
 * The local HTTP host's static sites (the console at /console): files from the build
 * directory with their types and caching, the index for the prefix and for client routes,
 * nothing outside the directory, GET/HEAD only, a 503 naming the build when nothing is built,
 * and the cross-site guard still first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpHost } from '../../../packages/functions-local/src/http/host';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';

let host: HttpHost;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'static-site-'));
  fs.mkdirSync(path.join(dir, 'site', 'assets'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'site', 'index.html'), '<!doctype html><p>console</p>');
  fs.writeFileSync(path.join(dir, 'site', 'assets', 'index-abc.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
  host = new HttpHost({
    functions: [],
    port: 0,
    logger: silentLogger,
    staticSites: [
      { prefix: '/console', dir: path.join(dir, 'site') },
      { prefix: '/unbuilt', dir: path.join(dir, 'nothing'), buildHint: 'npm run build:console' },
    ],
  });
  await host.listen();
});

afterAll(async () => {
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('static sites on the local HTTP host', () => {
  it('redirects the bare prefix to its directory and serves the index there, never cached, with a same-origin CSP', async () => {
    const bare = await fetch(`${host.url}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/console/');
    const index = await fetch(`${host.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await index.text()).toContain('console');
  });

  it('serves hashed assets with their type, cached for good, and the index for client routes', async () => {
    const js = await fetch(`${host.url}/console/assets/index-abc.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    expect(await (await fetch(`${host.url}/console/deliveries/abc`)).text()).toContain('console');
    expect((await fetch(`${host.url}/console/assets/missing.js`)).status).toBe(404);
  });

  it('serves nothing outside its directory and only GET and HEAD', async () => {
    for (const p of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt']) {
      const res = await fetch(`${host.url}${p}`);
      expect(await res.text(), p).not.toContain('outside');
    }
    const head = await fetch(`${host.url}/console/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(
      (
        await fetch(`${host.url}/console/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(405);
  });

  it('answers 503 naming the build when nothing is built, and refuses a foreign Origin before serving', async () => {
    const res = await fetch(`${host.url}/unbuilt/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:console');
    expect((await fetch(`${host.url}/console/`, { headers: { origin: 'http://evil.example' } })).status).toBe(403);
  });
});
