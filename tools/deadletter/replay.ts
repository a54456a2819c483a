/**
 * Reading and replaying dead letters. `list` shows each record's reason, origin and first
 * error; `replay` re-validates each not-yet-replayed record's raw body with today's schema,
 * re-publishes the ones that now pass to their hub (partition key = drone id), and marks them
 * replayed in blob metadata so a second replay does not send them again.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { decodeTelemetry } from '../../domain/telemetry/batch';
import type { DeadLetter } from '../../domain/telemetry/ports';
import type { EventPublisher } from '../../functions/adapters/event-publishers';

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

export async function replayDeadLetters(
  container: ContainerClient,
  publisher: EventPublisher,
  opts: { dryRun?: boolean; now?: () => Date; progress?: (line: string) => void; batchSize?: number } = {},
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
      await publisher.publish(hub, pending.map((p) => ({ body: p.body, partitionKey: p.partitionKey })));
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

  for await (const letter of readDeadLetters(container)) {
    examined++;
    if (letter.replayedAt) {
      alreadyReplayed++;
      continue;
    }
    if (letter.source !== 'telemetry') {
      unsupportedSource++;
      continue;
    }
    const raw = letter.rawBodyEncoding === 'base64' ? Buffer.from(letter.rawBody, 'base64').toString('utf8') : letter.rawBody;
    const decoded = decodeTelemetry(raw, utf8);
    if (!decoded.ok) {
      stillInvalid++;
      progress(`still invalid: ${letter.blobName} (${decoded.reason}: ${decoded.errors[0]?.path ?? '/'} ${decoded.errors[0]?.message ?? ''})`);
      continue;
    }
    pending.push({ letter, body: decoded.telemetry, partitionKey: decoded.telemetry.droneId });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  return { examined, replayed, stillInvalid, alreadyReplayed, unsupportedSource };
}
