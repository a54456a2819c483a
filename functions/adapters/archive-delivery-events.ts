/**
 * ArchiveReader over the Event Hubs Capture archive: reads the `delivery-events` Capture files
 * of a time range through CaptureArchive and yields the bodies that are valid delivery events.
 * Bodies that are not (poison that was dead-lettered when it was live) are reported and
 * skipped: the archive holds everything published, the store only what the pipeline accepts.
 */
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { ArchiveRange, ArchiveReader } from '../../domain/delivery/ports';
import { validateDeliveryEvent } from '../../domain/delivery/schema';
import type { FieldError } from '../../domain/shared/errors';
import type { ArchivedEvent, CaptureArchive } from './capture-archive';

export interface SkippedArchiveEvent {
  readonly file: string;
  readonly partitionId: string;
  readonly sequenceNumber: number;
  readonly errors: readonly FieldError[];
}

export class CaptureDeliveryArchive implements ArchiveReader {
  constructor(
    private readonly archive: Pick<CaptureArchive, 'events'>,
    /** The Capture path's namespace segment (the Event Hubs namespace name). */
    private readonly namespace: string,
    private readonly eventHub: string,
    private readonly onSkipped: (skipped: SkippedArchiveEvent) => void = () => undefined,
  ) {}

  async *events(range: ArchiveRange): AsyncGenerator<DeliveryEvent> {
    const source = this.archive.events({
      namespace: this.namespace,
      eventHub: this.eventHub,
      from: new Date(range.from),
      to: new Date(range.to),
    });
    for await (const archived of source) {
      const event = this.decode(archived);
      if (event && (range.deliveryId === undefined || event.deliveryId === range.deliveryId)) yield event;
    }
  }

  private decode(archived: ArchivedEvent): DeliveryEvent | undefined {
    const where = { file: archived.file, partitionId: archived.partitionId, sequenceNumber: archived.sequenceNumber };
    if (archived.body.kind !== 'json') {
      this.onSkipped({
        ...where,
        errors: [{ path: '/', message: archived.body.kind === 'none' ? 'no body' : 'body is not JSON' }],
      });
      return undefined;
    }
    const verdict = validateDeliveryEvent(archived.body.value);
    if (verdict.ok) return verdict.value;
    this.onSkipped({ ...where, errors: verdict.errors });
    return undefined;
  }
}
