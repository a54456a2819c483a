/**
 * The span topology of batch triggers and the trace route, on the real SDK set-up
 * (tracing/bootstrap.ts) with the in-memory store: where a batch span hangs for a one-trace and a
 * mixed batch, where the projector's per-delivery writes hang, what the trace route answers
 * (admin only, 404 for a delivery without spans, 501 in Azure where spans go to Application
 * Insights), and that its body matches the OpenAPI schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Composition, resetComposition } from '../../../functions/composition';
import { parseConfig } from '../../../functions/config';
import { principalHeaders } from '../../../functions/http/identity';
import { jsonSchemaOf } from '../../../functions/http/openapi';
import { DeliveryTraceSchema } from '../../../functions/http/ops-read-schemas';
import { FUNCTIONS } from '../../../functions/names';
import { deliverySpanOptions, inBatchSpan } from '../../../functions/tracing/batch-trace';
import { withTraceparent, splitTraceparent, tracedActivity } from '../../../functions/tracing/activity-trace';
import { contextFrom, inSpan, traceparentOf } from '../../../functions/tracing/spans';
import type { SpanStore } from '../../../functions/tracing/span-store';
import { callHttp } from '../../support/app';

const ADMIN = principalHeaders({ id: 'ops-admin', roles: ['Deliveries.Admin'] });
const READER = principalHeaders({ id: 'ops-reader', roles: ['Deliveries.Reader'] });

const SETTINGS = {
  CosmosConnection__accountEndpoint: 'http://127.0.0.1:9',
  CosmosConnection__accountKey: 'unused',
  DeadLetterStorage__blobServiceUri: 'http://127.0.0.1:9/unused',
  LocalEventHubsEndpoint: 'http://127.0.0.1:9',
};

const tp = (trace: string, span: string): string => `00-${trace.padEnd(32, '0')}-${span.padEnd(16, '0')}-01`;

let store: SpanStore;

beforeAll(() => {
  const c = new Composition(parseConfig({ ...SETTINGS, LocalRuntime: 'true' }));
  resetComposition(c);
  if (!c.tracing.spans) throw new Error('the local runtime keeps spans');
  store = c.tracing.spans;
});

afterAll(() => resetComposition());

function batchMeta(events: { key: string; traceparent?: string }[]): Record<string, unknown> {
  return {
    partitionKeyArray: events.map((e) => e.key),
    propertiesArray: events.map((e) => (e.traceparent ? { traceparent: e.traceparent } : {})),
  };
}

async function projectLike(
  name: string,
  events: { key: string; traceparent?: string }[],
  host?: string,
): Promise<void> {
  const meta = batchMeta(events);
  const byKey = new Map(events.filter((e) => e.traceparent).map((e) => [e.key, e.traceparent]));
  await inBatchSpan(
    name,
    { triggerMetadata: meta, ...(host ? { traceContext: { traceParent: host } } : {}) },
    events.length,
    {},
    async (batch) => {
      for (const key of new Set(events.map((e) => e.key)))
        await inSpan(`${name}.write`, deliverySpanOptions(batch, key, byKey.get(key)), async () => undefined);
    },
  );
}

describe('batch spans', () => {
  it('join the one trace all their events belong to, as a child of the first event, linked to each', async () => {
    await projectLike(
      'one-trace',
      [
        { key: 'd1', traceparent: tp('a1', 'b1') },
        { key: 'd1', traceparent: tp('a1', 'b2') },
      ],
      tp('ff', 'ee'),
    );
    const [batch] = store.all().filter((s) => s.name === 'one-trace');
    expect(batch).toMatchObject({ traceId: 'a1'.padEnd(32, '0'), parentSpanId: 'b1'.padEnd(16, '0') });
    expect(batch?.links.map((l) => l.spanId)).toEqual([
      'b1'.padEnd(16, '0'),
      'b2'.padEnd(16, '0'),
      'ee'.padEnd(16, '0'),
    ]);
    const [write] = store.all().filter((s) => s.name === 'one-trace.write');
    expect(write).toMatchObject({
      traceId: batch?.traceId,
      parentSpanId: batch?.spanId,
      links: [],
      attributes: { 'delivery.id': 'd1' },
    });
  });

  it('of several traces hang under the host invocation and link to each; each delivery’s write stays in its own trace, linked back', async () => {
    await projectLike(
      'mixed',
      [{ key: 'd1', traceparent: tp('a1', 'c1') }, { key: 'd2', traceparent: tp('a2', 'c2') }, { key: 'd3' }],
      tp('ff', 'ee'),
    );
    const [batch] = store.all().filter((s) => s.name === 'mixed');
    expect(batch).toMatchObject({ traceId: 'ff'.padEnd(32, '0'), parentSpanId: 'ee'.padEnd(16, '0') });
    expect(batch?.links.map((l) => l.traceId)).toEqual(['a1'.padEnd(32, '0'), 'a2'.padEnd(32, '0')]);
    const writes = store.all().filter((s) => s.name === 'mixed.write');
    const byDelivery = Object.fromEntries(writes.map((w) => [w.attributes['delivery.id'], w]));
    expect(byDelivery.d1).toMatchObject({
      traceId: 'a1'.padEnd(32, '0'),
      parentSpanId: 'c1'.padEnd(16, '0'),
      links: [{ traceId: batch?.traceId, spanId: batch?.spanId }],
    });
    expect(byDelivery.d2).toMatchObject({ traceId: 'a2'.padEnd(32, '0'), parentSpanId: 'c2'.padEnd(16, '0') });
    // An event that carried no context is written in the batch's trace.
    expect(byDelivery.d3).toMatchObject({ traceId: batch?.traceId, parentSpanId: batch?.spanId });
  });

  it('without any context start a trace of their own (no host span: the local runtime)', async () => {
    await projectLike('no-context', [{ key: 'd9' }]);
    const [batch] = store.all().filter((s) => s.name === 'no-context');
    expect(batch?.parentSpanId).toBeUndefined();
    expect(batch?.links).toEqual([]);
  });
});

describe('the trace context through activity inputs', () => {
  it('rides along as an opaque field the activity takes off before its own code sees the input', async () => {
    const traceparent = tp('c0ffee', 'abc');
    const input = withTraceparent({ deliveryId: 'd-act', at: 'x' }, traceparent);
    expect(input).toEqual({ deliveryId: 'd-act', at: 'x', traceparent });
    expect(splitTraceparent(input)).toEqual({ input: { deliveryId: 'd-act', at: 'x' }, traceparent });
    expect(withTraceparent({ a: 1 }, undefined)).toEqual({ a: 1 });
    let seen: unknown;
    let inside: string | undefined;
    await tracedActivity('Probe', input, async (own) => {
      seen = own;
      inside = traceparentOf();
    });
    expect(seen).toEqual({ deliveryId: 'd-act', at: 'x' });
    const span = store.all().find((s) => s.name === 'activity Probe');
    expect(span).toMatchObject({
      traceId: 'c0ffee'.padEnd(32, '0'),
      parentSpanId: 'abc'.padEnd(16, '0'),
      attributes: { 'delivery.id': 'd-act', 'activity.name': 'Probe' },
    });
    expect(inside).toBe(`00-${span?.traceId}-${span?.spanId}-01`);
  });

  it('ignores a malformed traceparent rather than failing the work', async () => {
    expect(contextFrom('00-nothex-00-01')).toBeUndefined();
    await tracedActivity('Malformed', { deliveryId: 'd-bad', traceparent: 'garbage' }, async () => undefined);
    expect(store.all().find((s) => s.name === 'activity Malformed')?.parentSpanId).toBeUndefined();
  });

  it('marks a failed activity span as an error and rethrows', async () => {
    await expect(
      tracedActivity('Boom', { deliveryId: 'd-boom' }, async () => Promise.reject(new Error('store down'))),
    ).rejects.toThrow('store down');
    expect(store.all().find((s) => s.name === 'activity Boom')).toMatchObject({
      status: 'error',
      statusMessage: 'store down',
    });
  });
});

describe('GET /api/ops/deliveries/{deliveryId}/trace', () => {
  const get = (id: string, headers: Record<string, string>) =>
    callHttp(FUNCTIONS.getDeliveryTrace, { path: `ops/deliveries/${id}/trace`, params: { deliveryId: id }, headers });

  it('answers an admin with the delivery’s spans, matching the OpenAPI schema', async () => {
    const r = await get('d1', ADMIN);
    expect(r.status, r.body).toBe(200);
    const body = r.json<{ deliveryId: string; traceIds: string[]; spans: { name: string; startTime: string }[] }>();
    expect(body.traceIds).toContain('a1'.padEnd(32, '0'));
    expect(body.spans.map((s) => s.name)).toEqual(
      expect.arrayContaining(['one-trace', 'one-trace.write', 'mixed', 'mixed.write']),
    );
    expect(body.spans.map((s) => s.startTime)).toEqual([...body.spans.map((s) => s.startTime)].sort());
    const validate = new Ajv2020({ strict: false }).compile(jsonSchemaOf(DeliveryTraceSchema));
    expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is for Deliveries.Admin, checks the id, and answers 404 for a delivery without spans', async () => {
    expect((await get('d1', READER)).status).toBe(403);
    expect((await get('d1', {})).status).toBe(401);
    expect((await get('not ok!', ADMIN)).status).toBe(400);
    const none = await get('never-seen', ADMIN);
    expect(none.status).toBe(404);
    expect(none.headers['content-type']).toBe('application/problem+json');
  });

  it('answers 501 in Azure, naming Application Insights, since no span is kept in the app there', async () => {
    const azure = new Composition(
      parseConfig({ ...SETTINGS, WEBSITE_AUTH_ENABLED: 'True', WEBSITE_SITE_NAME: 'func-x' }),
    );
    expect(azure.tracing.spans).toBeUndefined();
    resetComposition(azure);
    try {
      const r = await get('d1', ADMIN);
      expect(r.status).toBe(501);
      expect(r.json<{ title: string; detail: string }>()).toMatchObject({
        title: 'Traces are served by Application Insights.',
        detail: expect.stringContaining('delivery.id = "d1"'),
      });
    } finally {
      const local = new Composition(parseConfig({ ...SETTINGS, LocalRuntime: 'true' }));
      resetComposition(local);
    }
  });
});
