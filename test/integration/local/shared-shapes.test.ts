/**
 * The Cosmos DB stand-in stores documents that share hidden classes
 * (packages/functions-local/src/cosmos/shared-shapes.ts): the copy it stores has the same
 * fields in the same order with the same values, for seeded random documents, and a server
 * started with it installed answers every write and read as before.
 */
import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSharedShapes, sharedShape, sharedShapesInstalled, startCosmos } from '@fabrikam/functions-local';
import type { CosmosHandle } from '@fabrikam/functions-local';
import { Random } from '../../../tools/simulation/random';

function value(r: Random, depth: number): unknown {
  switch (r.int(0, depth > 1 ? 4 : 6)) {
    case 0:
      return r.int(-5, 5);
    case 1:
      return `s${r.int(0, 9)}`;
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    case 4:
      return r.next();
    case 5:
      return Array.from({ length: r.int(0, 3) }, () => value(r, depth + 1));
    default:
      return document(r, depth + 1);
  }
}

function document(r: Random, depth = 0): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (let i = r.int(0, 8); i > 0; i--)
    doc[r.pick(['id', 'a', 'b', '_rid', 'active', 'z', '0', 'x-y'])] = value(r, depth);
  return doc;
}

describe('documents on the Cosmos DB stand-in share their shapes', () => {
  it('a shared-shape copy has the same fields, in the same order, with the same values (200 seeds)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const doc = document(new Random(seed));
      const copy = sharedShape(doc);
      expect(copy, `seed ${seed}`).not.toBe(doc);
      expect(Object.keys(copy), `seed ${seed}`).toEqual(Object.keys(doc));
      for (const key of Object.keys(doc)) expect(copy[key], `seed ${seed}: ${key}`).toBe(doc[key]);
    }
  });

  it('leaves a document with its own `__proto__` field as it was (a copy would set its prototype instead)', () => {
    const doc = JSON.parse('{"id":"p","__proto__":{"active":true}}') as Record<string, unknown>;
    const copy = sharedShape(doc);
    expect(Object.keys(copy)).toEqual(['id', '__proto__']);
    expect(copy['active']).toBeUndefined();
  });

  describe('a server started with it installed', () => {
    let cosmos: CosmosHandle;
    let client: CosmosClient;
    beforeAll(async () => {
      cosmos = await startCosmos();
      client = new CosmosClient({
        endpoint: cosmos.endpoint,
        key: cosmos.key,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      await client.databases.createIfNotExists({ id: 'shapes' });
      await client.database('shapes').containers.createIfNotExists({ id: 'c', partitionKey: { paths: ['/id'] } });
    });
    afterAll(async () => {
      client.dispose();
      await cosmos.stop();
    });

    it('stores every write through it (installed by starting the server, once however often installed), and answers creates, patches, replaces, upserts and queries as before', async () => {
      expect(sharedShapesInstalled()).toBe(true);
      installSharedShapes();
      expect(sharedShapesInstalled()).toBe(true);

      const c = client.database('shapes').container('c');
      const strip = (d: Record<string, unknown> | undefined) =>
        Object.fromEntries(Object.entries(d ?? {}).filter(([k]) => !k.startsWith('_')));
      await c.items.create({ id: 'one', active: true, nested: { a: [1, { b: null }] }, n: 2.5 });
      await c.item('one', 'one').patch([{ op: 'set', path: '/n', value: 3 }]);
      const { resource: one } = await c.item('one', 'one').read<Record<string, unknown>>();
      expect(strip(one)).toEqual({ id: 'one', active: true, nested: { a: [1, { b: null }] }, n: 3 });
      expect(Object.keys(one ?? {}).slice(0, 4)).toEqual(['id', 'active', 'nested', 'n']);
      await c.item('one', 'one').replace({ id: 'one', active: false, z: 'last' });
      await c.items.upsert({ id: 'two', active: true });
      const { resources } = await c.items
        .query<Record<string, unknown>>('SELECT * FROM c WHERE c.active = true')
        .fetchAll();
      expect(resources.map(strip)).toEqual([{ id: 'two', active: true }]);
      const { resource: replaced } = await c.item('one', 'one').read<Record<string, unknown>>();
      expect(strip(replaced)).toEqual({ id: 'one', active: false, z: 'last' });
    });
  });
});
