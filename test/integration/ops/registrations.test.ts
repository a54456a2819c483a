import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import { loadFunctionApp } from '../../support/app';
import { ACTIVITIES, FUNCTIONS } from '../../../functions/names';
import { checkRoutePrefix, registrationProblem } from '../../../packages/functions-local/src/core/functions-core';
import type { FunctionMetadata, RegisteredFunction } from '../../../packages/functions-local/src/core/functions-core';
import { HttpHost } from '../../../packages/functions-local/src/http/host';
import { silentLogger } from '../../../packages/functions-local/src/host/invocation';

const noop = async (): Promise<{ status: number }> => ({ status: 204 });

function httpMeta(name: string, route: string | undefined, methods?: string[]): FunctionMetadata {
  return {
    name,
    bindings: {
      req: {
        type: 'httpTrigger',
        direction: 'in',
        ...(route !== undefined ? { route } : {}),
        ...(methods ? { methods } : {}),
      },
      $return: { type: 'http', direction: 'out' },
    },
  };
}

function registered(meta: FunctionMetadata): RegisteredFunction {
  const [name, trigger] = Object.entries(meta.bindings)[0] ?? [
    'req',
    { type: 'httpTrigger', direction: 'in' as const },
  ];
  return { name: meta.name, metadata: meta, handler: () => undefined, trigger: { ...trigger, name } };
}

describe('the app loaded through the @azure/functions-core seam', () => {
  it('captures every app.* registration with its binding metadata', async () => {
    const registry = await loadFunctionApp();
    const health = registry.get(FUNCTIONS.health);
    expect(health.trigger.type).toBe('httpTrigger');
    expect(health.trigger.route).toBe('health');
    expect(health.trigger.methods).toEqual(['GET']);
    expect(health.trigger.authLevel).toBe('anonymous');
  });

  it('registers no two functions whose names differ only by case (the host would refuse to start)', async () => {
    const names = [...(await loadFunctionApp()).functions.keys()];
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    expect(names).toContain(FUNCTIONS.cancelDelivery);
    expect(names).toContain('CancelDeliverySchedule');
    expect(ACTIVITIES.cancelDeliverySchedule).toBe('CancelDeliverySchedule');
  });
});

describe('the seam refuses what the Functions host refuses at start-up', () => {
  it('refuses a second function whose name equals an existing one ignoring case, whatever its trigger', async () => {
    await loadFunctionApp();
    expect(() => df.app.activity('cancelDELIVERY', { handler: noop })).toThrow(/differ only by case/);
    expect(() => app.http('Health', { route: 'health-two', methods: ['GET'], handler: noop })).toThrow(
      /"health" and "Health" differ only by case/,
    );
  });

  it('refuses a name outside ^[a-zA-Z][a-zA-Z0-9_-]{0,127}$', () => {
    for (const bad of ['1starts-with-digit', 'has space', 'dotted.name', 'ünïcode', `a${'b'.repeat(128)}`, '']) {
      expect(registrationProblem([], httpMeta(bad, 'r'))).toMatch(/is invalid/);
    }
    for (const good of ['a', 'Z_9-x', `a${'b'.repeat(127)}`])
      expect(registrationProblem([], httpMeta(good, 'r'))).toBeUndefined();
    expect(() => app.http('bad.name', { route: 'bad-name', methods: ['GET'], handler: noop })).toThrow(/is invalid/);
  });

  it('refuses two HTTP functions on the same method and route template, parameter names and case aside', () => {
    const existing = [registered(httpMeta('getItem', 'items/{id}', ['GET']))];
    expect(registrationProblem(existing, httpMeta('getItemAgain', 'Items/{itemId}', ['get']))).toMatch(
      /both answer GET on route/,
    );
    // No methods means every method, so it collides with GET.
    expect(registrationProblem(existing, httpMeta('anyItem', 'items/{x}'))).toMatch(/both answer GET/);
    expect(registrationProblem(existing, httpMeta('deleteItem', 'items/{id}', ['DELETE']))).toBeUndefined();
    expect(registrationProblem(existing, httpMeta('getIntItem', 'items/{id:int}', ['GET']))).toBeUndefined();
    expect(registrationProblem(existing, httpMeta('getItemNew', 'items/new', ['GET']))).toBeUndefined();
    // Without a route the function's name is its route.
    expect(
      registrationProblem([registered(httpMeta('ping', undefined, ['GET']))], httpMeta('pong', 'PING', ['GET'])),
    ).toMatch(/both answer GET on route "PING"/);
  });

  it('refuses a route, or a route prefix, that starts with admin', () => {
    for (const route of ['admin/rebuild', 'Admin', '/administration/x'])
      expect(registrationProblem([], httpMeta('opsThing', route, ['POST']))).toMatch(/built-in admin routes/);
    expect(registrationProblem([], httpMeta('opsThing', 'ops/admin', ['POST']))).toBeUndefined();
    expect(() => checkRoutePrefix('admin')).toThrow(/route prefix "admin"/);
    expect(() => checkRoutePrefix('Administrator/api')).toThrow(/built-in admin routes/);
    expect(() => checkRoutePrefix('api')).not.toThrow();
    expect(() => checkRoutePrefix('')).not.toThrow();
    expect(() => new HttpHost({ functions: [], routePrefix: 'admin', logger: silentLogger })).toThrow(/route prefix/);
  });
});
