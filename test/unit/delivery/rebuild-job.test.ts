/** The rebuild job's plan: slices, a job id per range, summed counts, the status callers see; and its bound in the settings. */
import { describe, expect, it } from 'vitest';
import {
  addCounts,
  jobStatusOf,
  NO_COUNTS,
  planRebuildSlices,
  rebuildJobId,
  REBUILD_SLICE_MS,
} from '../../../domain/delivery/rebuild-job';
import { ConfigError, parseConfig } from '../../../functions/config';

describe('planRebuildSlices', () => {
  it('cuts [from, to) into hour slices aligned to from, the last one ending at to', () => {
    expect(REBUILD_SLICE_MS).toBe(3_600_000);
    expect(planRebuildSlices({ from: '2026-11-22T09:30:00Z', to: '2026-11-22T11:45:00Z', deliveryId: 'd' })).toEqual([
      { from: '2026-11-22T09:30:00.000Z', to: '2026-11-22T10:30:00.000Z', deliveryId: 'd' },
      { from: '2026-11-22T10:30:00.000Z', to: '2026-11-22T11:30:00.000Z', deliveryId: 'd' },
      { from: '2026-11-22T11:30:00.000Z', to: '2026-11-22T11:45:00.000Z', deliveryId: 'd' },
    ]);
  });

  it('plans nothing for an empty or reversed range', () => {
    expect(planRebuildSlices({ from: '2026-11-22T10:00:00Z', to: '2026-11-22T10:00:00Z' })).toEqual([]);
    expect(planRebuildSlices({ from: '2026-11-22T11:00:00Z', to: '2026-11-22T10:00:00Z' })).toEqual([]);
  });
});

describe('rebuildJobId', () => {
  it('is the same for the same instants however spelled, and differs by range and delivery', () => {
    const a = rebuildJobId({ from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' });
    expect(rebuildJobId({ from: '2026-11-22T10:00:00.000Z', to: '2026-11-22T11:00:00.000Z' })).toBe(a);
    expect(rebuildJobId({ from: '2026-11-22T10:00:00Z', to: '2026-11-22T12:00:00Z' })).not.toBe(a);
    expect(rebuildJobId({ from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z', deliveryId: 'd-1' })).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9-]+$/);
  });
});

describe('job bookkeeping', () => {
  it('sums counts slice by slice', () => {
    const one = { ...NO_COUNTS, eventsRead: 3, appended: 2, duplicates: 1, deliveries: 1, viewsWritten: 1 };
    expect(addCounts(addCounts(NO_COUNTS, one), one)).toEqual({
      ...NO_COUNTS,
      eventsRead: 6,
      appended: 4,
      duplicates: 2,
      deliveries: 2,
      viewsWritten: 2,
    });
  });

  it('maps runtime statuses to Running, Completed or Failed', () => {
    expect(['Pending', 'Running', 'ContinuedAsNew', 'Suspended'].map(jobStatusOf)).toEqual([
      'Running',
      'Running',
      'Running',
      'Running',
    ]);
    expect(jobStatusOf('Completed')).toBe('Completed');
    expect(['Failed', 'Terminated'].map(jobStatusOf)).toEqual(['Failed', 'Failed']);
  });
});

describe('RebuildMaxRangeDays', () => {
  const base = {
    CosmosConnection__accountEndpoint: 'https://c.documents.azure.com:443/',
    DeadLetterStorage__blobServiceUri: 'https://s.blob.core.windows.net',
    EventHubConnection__fullyQualifiedNamespace: 'n.servicebus.windows.net',
  };

  it('defaults to 31 days', () => {
    expect(parseConfig(base).history.rebuildMaxRangeMs).toBe(31 * 86_400_000);
    expect(parseConfig({ ...base, RebuildMaxRangeDays: '2' }).history.rebuildMaxRangeMs).toBe(2 * 86_400_000);
  });

  it('fails fast, naming the setting, when malformed', () => {
    for (const bad of ['0', '-1', 'a week', '1.5']) {
      expect(() => parseConfig({ ...base, RebuildMaxRangeDays: bad })).toThrow(ConfigError);
      expect(() => parseConfig({ ...base, RebuildMaxRangeDays: bad })).toThrow(/RebuildMaxRangeDays/);
    }
  });
});
