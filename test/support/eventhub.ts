/**
 * Builds Event Hubs batches the way the Functions host hands them to a `cardinality: 'many'`
 * trigger: bodies JSON-parsed when they parse (else the raw string), and camel-cased batch
 * trigger metadata with one entry per event.
 */
export interface HostBatch {
  readonly messages: unknown[];
  readonly triggerMetadata: Record<string, unknown>;
}

export interface BatchOptions {
  readonly eventHubName?: string;
  readonly consumerGroup?: string;
  readonly partitionId?: string;
  readonly firstSequenceNumber?: number;
  readonly enqueuedTimeUtc?: Date;
}

export function hostBatch(bodies: readonly (string | object)[], opts: BatchOptions = {}): HostBatch {
  const first = opts.firstSequenceNumber ?? 100;
  const enqueued = opts.enqueuedTimeUtc ?? new Date();
  const messages = bodies.map((b) => {
    if (typeof b !== 'string') return JSON.parse(JSON.stringify(b)) as unknown;
    try {
      return JSON.parse(b) as unknown;
    } catch {
      return b;
    }
  });
  const seq = bodies.map((_, i) => first + i);
  const partitionKeys = bodies.map((b) =>
    typeof b === 'object' && b && 'droneId' in b ? String((b as { droneId: unknown }).droneId) : null,
  );
  const times = bodies.map((_, i) => new Date(enqueued.getTime() + i).toISOString());
  return {
    messages,
    triggerMetadata: {
      partitionContext: {
        eventHubName: opts.eventHubName ?? 'telemetry',
        consumerGroup: opts.consumerGroup ?? 'ingestion',
        fullyQualifiedNamespace: 'local.servicebus.windows.net',
        partitionId: opts.partitionId ?? '0',
      },
      sequenceNumberArray: seq,
      offsetArray: seq.map((s) => String(s * 1000)),
      enqueuedTimeUtcArray: times,
      partitionKeyArray: partitionKeys,
      propertiesArray: bodies.map(() => ({})),
      systemPropertiesArray: seq.map((s, i) => ({
        'x-opt-sequence-number': s,
        'x-opt-offset': String(s * 1000),
        'x-opt-enqueued-time': times[i],
        'x-opt-partition-key': partitionKeys[i],
      })),
    },
  };
}
