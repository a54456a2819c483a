/**
 * The parts of host.json the local runtime honours (HTTP route prefix, Event Hubs batching), read
 * once and typed, with the host's defaults for anything left out.
 */
import fs from 'node:fs';

export interface EventHubsHostOptions {
  readonly maxEventBatchSize: number;
  readonly minEventBatchSize: number;
  readonly maxWaitTimeMs: number;
  /** Where a consumer without a checkpoint starts. */
  readonly initialOffset: 'fromStart' | 'fromEnd';
}

export interface HostOptions {
  readonly routePrefix: string;
  readonly eventHubs: EventHubsHostOptions;
}

/** Defaults of the Event Hubs extension v5 and the HTTP extension. */
export const DEFAULT_HOST_OPTIONS: HostOptions = {
  routePrefix: 'api',
  eventHubs: { maxEventBatchSize: 100, minEventBatchSize: 1, maxWaitTimeMs: 60_000, initialOffset: 'fromStart' },
};

/** Parses a .NET TimeSpan as host.json writes it: `[d.]hh:mm:ss[.fffffff]`. */
export function parseTimeSpan(text: string): number {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a TimeSpan (expected [d.]hh:mm:ss[.fffffff]).`);
  const [, d, h, min, s, frac] = m;
  const fraction = frac ? Number(`0.${frac}`) : 0;
  return ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + (Number(s) + fraction) * 1000;
}

function obj(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`host.json: ${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Builds typed options from a parsed host.json document. */
export function hostOptionsFrom(hostJson: unknown): HostOptions {
  const extensions = obj(obj(hostJson).extensions);
  const http = obj(extensions.http);
  const eh = obj(extensions.eventHubs);
  const d = DEFAULT_HOST_OPTIONS.eventHubs;
  const routePrefix =
    typeof http.routePrefix === 'string'
      ? http.routePrefix.replace(/^\/+|\/+$/g, '')
      : DEFAULT_HOST_OPTIONS.routePrefix;
  const maxEventBatchSize = positiveInt(
    eh.maxEventBatchSize,
    'extensions.eventHubs.maxEventBatchSize',
    d.maxEventBatchSize,
  );
  const minEventBatchSize = positiveInt(
    eh.minEventBatchSize,
    'extensions.eventHubs.minEventBatchSize',
    d.minEventBatchSize,
  );
  if (minEventBatchSize > maxEventBatchSize) {
    throw new Error('host.json: extensions.eventHubs.minEventBatchSize must not exceed maxEventBatchSize.');
  }
  const maxWaitTimeMs = typeof eh.maxWaitTime === 'string' ? parseTimeSpan(eh.maxWaitTime) : d.maxWaitTimeMs;
  const offsetType = obj(eh.initialOffsetOptions).type;
  const initialOffset =
    typeof offsetType === 'string' && offsetType.toLowerCase() === 'fromend' ? 'fromEnd' : 'fromStart';
  return { routePrefix, eventHubs: { maxEventBatchSize, minEventBatchSize, maxWaitTimeMs, initialOffset } };
}

export function readHostOptions(hostJsonPath: string): HostOptions {
  return hostOptionsFrom(JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as unknown);
}
