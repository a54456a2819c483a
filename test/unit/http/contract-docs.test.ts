/**
 * docs/contract.md and the OpenAPI document the app serves describe the same API: the same
 * routes (method and path) with the same status codes, in both directions. The contract gives
 * each route of §1 a heading `### \`METHOD /api/path\`` and a table of status codes; this test
 * reads those and nothing else of the prose.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../functions/http/openapi';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** `METHOD /path` → sorted status codes, from §1 of the contract (paths without the `/api` prefix). */
function documentedRoutes(markdown: string): Map<string, string[]> {
  const start = markdown.indexOf('\n## §1 ');
  const end = markdown.indexOf('\n## §2 ');
  if (start < 0 || end < start) throw new Error('docs/contract.md has no §1 followed by §2');
  const routes = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of markdown.slice(start, end).split('\n')) {
    const heading = /^### `([A-Z]+) \/api(\/\S*)`/.exec(line);
    if (heading) {
      current = `${heading[1]} ${heading[2]}`;
      if (routes.has(current)) throw new Error(`${current} is documented twice`);
      routes.set(current, []);
      continue;
    }
    if (line.startsWith('### ')) current = undefined;
    const status = /^\|\s*`?(\d{3})`?\s*\|/.exec(line);
    if (status && current) routes.get(current)?.push(status[1] ?? '');
  }
  return new Map([...routes].map(([route, codes]) => [route, [...codes].sort()]));
}

function openApiRoutes(doc: Record<string, unknown>): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of METHODS) {
      const operation = item[method] as { responses?: Record<string, unknown> } | undefined;
      if (operation) routes.set(`${method.toUpperCase()} ${path}`, Object.keys(operation.responses ?? {}).sort());
    }
  }
  return routes;
}

describe('docs/contract.md §1 and the OpenAPI document', () => {
  const doc = buildOpenApiDocument();
  const documented = documentedRoutes(readFileSync(join(__dirname, '../../../docs/contract.md'), 'utf8'));
  const described = openApiRoutes(doc);

  it('serve the API under the prefix the contract names', () => {
    expect(doc.servers).toEqual([{ url: '/api' }]);
  });

  it('name the same routes', () => {
    expect(documented.size).toBeGreaterThan(0);
    expect([...documented.keys()].sort()).toEqual([...described.keys()].sort());
  });

  it('give every route the same status codes', () => {
    for (const [route, codes] of documented) {
      expect(codes.length, `${route} has no status table`).toBeGreaterThan(0);
      expect(codes, route).toEqual(described.get(route));
    }
  });
});
