/**
 * DeadLetterSink on Blob Storage: one JSON blob per poison event in the `deadletter` container,
 * named from its origin (source/hub/partition/sequence number) so a redelivered batch writes
 * the same name and the first record is kept. An event parked because its batch ran out of
 * retries gets a name of its own beside it, so a poison record of the same event stays as it was. Records carry the raw body, the reason, the field
 * errors and the Event Hubs metadata, which is all `npm run deadletter` needs to list and replay.
 */
import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { DeadLetter, DeadLetterSink } from '../../domain/shared/ports';

const DEAD_LETTER_SCHEMA = 'fabrikam.deadletter.v1';

export function deadLetterBlobName(letter: Pick<DeadLetter, 'source' | 'origin' | 'rawBody' | 'reason'>): string {
  const o = letter.origin;
  const day = (o.enqueuedTimeUtc ?? '').slice(0, 10) || 'undated';
  const id =
    o.partitionId !== undefined && o.sequenceNumber !== undefined
      ? `p${o.partitionId}-s${o.sequenceNumber}`
      : `h${createHash('sha256').update(letter.rawBody).digest('hex').slice(0, 32)}`;
  const suffix = letter.reason === 'RetriesExhausted' ? '.retries-exhausted' : '';
  return `${letter.source}/${o.eventHubName}/${day}/${id}${suffix}.json`;
}

export class BlobDeadLetterSink implements DeadLetterSink {
  constructor(private readonly container: ContainerClient) {}

  async put(letter: DeadLetter): Promise<void> {
    const name = deadLetterBlobName(letter);
    const body = JSON.stringify({ schema: DEAD_LETTER_SCHEMA, ...letter });
    try {
      await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
        conditions: { ifNoneMatch: '*' },
        blobHTTPHeaders: { blobContentType: 'application/json' },
        metadata: { reason: letter.reason, source: letter.source },
      });
    } catch (e) {
      const status = (e as { statusCode?: unknown }).statusCode;
      // Already dead-lettered by an earlier delivery of the same batch: keep the first record.
      if (status === 409 || status === 412) return;
      throw e;
    }
  }
}
