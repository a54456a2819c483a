/**
 * Reading and replaying dead letters. `list` shows each record's reason, origin and first
 * error; `replay` re-validates each not-yet-replayed record's raw body with today's schema for
 * its source (telemetry, or delivery events), re-publishes the ones that now pass to their hub
 * with the contract's partition key (drone id, or delivery id), and marks them replayed in blob
 * metadata so a second replay does not send them again. `RetriesExhausted` records (events of a
 * batch that failed its last retry, parked by functions/shared/hub-batch.ts) replay the same way:
 * their bodies were fine, so they pass and go back to their hub.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { decodeDeliveryEvent } from '../../domain/delivery/schema';
import { decodeTelemetry } from '../../domain/telemetry/batch';
import type { DeadLetter, EventPublisher } from '../../domain/shared/ports';

export interface StoredDeadLetter extends DeadLetter {
  readonly blobName: string;
  readonly replayedAt?: string;
}

export async function* readDeadLetters(
  container: ContainerClient,
  filter: { source?: string; reason?: string } = {},
): AsyncGenerator<StoredDeadLetter> {
  const prefix = filter.source ? `${filter.source}/` : undefined;
  for await (const item of container.listBlobsFlat({ includeMetadata: true, ...(prefix ? { prefix } : {}) })) {
    if (filter.reason && item.metadata?.reason !== filter.reason) continue;
    const buf = await container.getBlockBlobClient(item.name).downloadToBuffer();
    const letter = JSON.parse(buf.toString('utf8')) as DeadLetter;
    const replayedAt = item.metadata?.replayedat;
    yield { ...letter, blobName: item.name, ...(replayedAt ? { replayedAt } : {}) };
  }
}

export interface ReplayReport {
  readonly examined: number;
  readonly replayed: number;
  readonly stillInvalid: number;
  readonly alreadyReplayed: number;
  readonly unsupportedSource: number;
}

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

type Redecoded =
  | { ok: true; body: unknown; partitionKey: string }
  | { ok: false; reason: string; errors: readonly { path: string; message: string }[] };

/** Today's decoder for a dead letter's source; undefined for a source nothing can replay. */
function redecode(source: string, raw: string): Redecoded | undefined {
  if (source === 'telemetry') {
    const d = decodeTelemetry(raw, utf8);
    return d.ok ? { ok: true, body: d.telemetry, partitionKey: d.telemetry.droneId } : d;
  }
  if (source === 'delivery-events') {
    const d = decodeDeliveryEvent(raw, utf8);
    return d.ok ? { ok: true, body: d.event, partitionKey: d.event.deliveryId } : d;
  }
  return undefined;
}

export async function replayDeadLetters(
  container: ContainerClient,
  publisher: EventPublisher,
  opts: {
    dryRun?: boolean;
    now?: () => Date;
    progress?: (line: string) => void;
    batchSize?: number;
    filter?: { source?: string; reason?: string };
  } = {},
): Promise<ReplayReport> {
  const progress = opts.progress ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const batchSize = opts.batchSize ?? 100;
  let examined = 0;
  let replayed = 0;
  let stillInvalid = 0;
  let alreadyReplayed = 0;
  let unsupportedSource = 0;
  let pending: { letter: StoredDeadLetter; body: unknown; partitionKey: string }[] = [];

  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const hub = pending[0]?.letter.origin.eventHubName ?? 'telemetry';
    if (!opts.dryRun) {
      await publisher.publish(
        hub,
        pending.map((p) => ({ body: p.body, partitionKey: p.partitionKey })),
      );
      const at = now().toISOString();
      for (const p of pending) {
        const blob = container.getBlockBlobClient(p.letter.blobName);
        const props = await blob.getProperties();
        await blob.setMetadata({ ...props.metadata, replayedat: at, replayedto: hub });
      }
    }
    replayed += pending.length;
    progress(`replayed ${replayed} so far`);
    pending = [];
  };

  for await (const letter of readDeadLetters(container, opts.filter ?? {})) {
    examined++;
    if (letter.replayedAt) {
      alreadyReplayed++;
      continue;
    }
    const raw =
      letter.rawBodyEncoding === 'base64' ? Buffer.from(letter.rawBody, 'base64').toString('utf8') : letter.rawBody;
    const decoded = redecode(letter.source, raw);
    if (decoded === undefined) {
      unsupportedSource++;
      continue;
    }
    if (!decoded.ok) {
      stillInvalid++;
      progress(
        `still invalid: ${letter.blobName} (${decoded.reason}: ${decoded.errors[0]?.path ?? '/'} ${decoded.errors[0]?.message ?? ''})`,
      );
      continue;
    }
    // One hub per publish call: a change of hub flushes what is pending first.
    if (pending.length > 0 && pending[0]?.letter.origin.eventHubName !== letter.origin.eventHubName) await flush();
    pending.push({ letter, body: decoded.body, partitionKey: decoded.partitionKey });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  return { examined, replayed, stillInvalid, alreadyReplayed, unsupportedSource };
}
