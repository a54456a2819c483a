/**
 * DeadLetterArchive on the `deadletter` blob container (records written by blob-dead-letters.ts):
 * lists records with their metadata and replays one. A replay re-validates the raw body with
 * today's schema for its source, claims the record by writing `replayedat`/`replayedto` into its
 * metadata under If-Match (so two replays at once publish once), then publishes the body to its
 * source hub with the contract's partition key. If publishing fails the claim is undone. The
 * metadata names are those `npm run deadletter -- replay` uses, so a record replayed by either
 * is not sent again by the other.
 *
 * A record's body never changes (it is written once, If-None-Match: *), so bodies are kept by
 * blob name once read: a console polling the list downloads only records it has not seen.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { decodeDeliveryEvent } from '../../domain/delivery/schema';
import type { DeadLetterArchive, ReplayOutcome, StoredDeadLetter } from '../../domain/ops/ports';
import { decodeTelemetry } from '../../domain/telemetry/batch';
import type { DeadLetter, EventPublisher } from '../../domain/shared/ports';

type Redecoded =
  | { ok: true; body: unknown; partitionKey: string }
  | { ok: false; reason: string; errors: readonly { path: string; message: string }[] };

const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

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

const statusOf = (e: unknown): number | undefined => {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
};

const MAX_CACHED = 5000;

export class BlobDeadLetterArchive implements DeadLetterArchive {
  readonly #bodies = new Map<string, DeadLetter>();

  constructor(
    private readonly container: ContainerClient,
    private readonly publisher: () => EventPublisher,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(filter: { source?: string; reason?: string }, limit: number): Promise<StoredDeadLetter[]> {
    const out: StoredDeadLetter[] = [];
    const prefix = filter.source ? `${filter.source}/` : undefined;
    for await (const item of this.container.listBlobsFlat({ includeMetadata: true, ...(prefix ? { prefix } : {}) })) {
      if (filter.reason && item.metadata?.reason !== filter.reason) continue;
      const letter = await this.#read(item.name);
      if (!letter) continue;
      out.push(this.#stored(item.name, letter, item.metadata ?? {}));
      if (out.length >= limit) break;
    }
    return out;
  }

  async replay(id: string): Promise<ReplayOutcome> {
    const blob = this.container.getBlockBlobClient(id);
    let props;
    try {
      props = await blob.getProperties();
    } catch (e) {
      if (statusOf(e) === 404) return { outcome: 'notFound' };
      throw e;
    }
    const metadata = props.metadata ?? {};
    if (metadata.replayedat)
      return { outcome: 'alreadyReplayed', hub: metadata.replayedto ?? '', at: metadata.replayedat };
    const letter = await this.#read(id);
    if (!letter) return { outcome: 'notFound' };
    const raw =
      letter.rawBodyEncoding === 'base64' ? Buffer.from(letter.rawBody, 'base64').toString('utf8') : letter.rawBody;
    const decoded = redecode(letter.source, raw);
    if (!decoded) return { outcome: 'unsupportedSource', source: letter.source };
    if (!decoded.ok) return { outcome: 'stillInvalid', reason: decoded.reason, errors: decoded.errors };
    const hub = letter.origin.eventHubName;
    const at = this.now().toISOString();
    try {
      await blob.setMetadata(
        { ...metadata, replayedat: at, replayedto: hub },
        { conditions: { ifMatch: props.etag ?? '*' } },
      );
    } catch (e) {
      // Another replay claimed the record between our read and our claim: it publishes, not us.
      if (statusOf(e) === 412) {
        const now = (await blob.getProperties()).metadata ?? {};
        return { outcome: 'alreadyReplayed', hub: now.replayedto ?? hub, at: now.replayedat ?? at };
      }
      throw e;
    }
    try {
      await this.publisher().publish(hub, [{ body: decoded.body, partitionKey: decoded.partitionKey }]);
    } catch (e) {
      await blob.setMetadata(metadata).catch(() => undefined);
      throw e;
    }
    return { outcome: 'replayed', hub, at };
  }

  async #read(name: string): Promise<DeadLetter | undefined> {
    const cached = this.#bodies.get(name);
    if (cached) return cached;
    try {
      const buf = await this.container.getBlockBlobClient(name).downloadToBuffer();
      const letter = JSON.parse(buf.toString('utf8')) as DeadLetter;
      if (this.#bodies.size >= MAX_CACHED) this.#bodies.clear();
      this.#bodies.set(name, letter);
      return letter;
    } catch (e) {
      if (statusOf(e) === 404 || e instanceof SyntaxError) return undefined;
      throw e;
    }
  }

  #stored(id: string, letter: DeadLetter, metadata: Record<string, string>): StoredDeadLetter {
    return {
      id,
      letter,
      ...(metadata.replayedat ? { replayedAt: metadata.replayedat } : {}),
      ...(metadata.replayedto ? { replayedTo: metadata.replayedto } : {}),
    };
  }
}
