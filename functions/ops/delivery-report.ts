/**
 * The delivery report's use case: read the archived delivery events of a range through the
 * same Capture reader the view rebuild uses (Composition.archiveReader) and compute the report
 * (domain/delivery/report.ts). Shared by `npm run report` and `GET /api/ops/report`.
 */
import { buildReport } from '../../domain/delivery/report';
import type { DeliveryReport, ReportRange } from '../../domain/delivery/report';
import type { DeliveryEvent } from '../../domain/delivery/events';
import type { ArchiveReader } from '../../domain/delivery/ports';
import type { ArchivedEvent, CaptureArchive } from '../adapters/capture-archive';

export interface ReadProgress {
  readonly files: number;
  readonly events: number;
  readonly file: string;
}

/** Wraps a Capture reader so `onFile` hears of every file as its first event is read. */
export function countingFiles(
  onFile: (p: ReadProgress) => void,
): (capture: Pick<CaptureArchive, 'events'>) => Pick<CaptureArchive, 'events'> {
  return (capture) => ({
    events: async function* (...args: Parameters<CaptureArchive['events']>): AsyncGenerator<ArchivedEvent> {
      let files = 0;
      let events = 0;
      let current: string | undefined;
      for await (const e of capture.events(...args)) {
        events += 1;
        if (e.file !== current) {
          current = e.file;
          files += 1;
          onFile({ files, events, file: e.file });
        }
        yield e;
      }
    },
  });
}

export async function reportFromArchive(reader: ArchiveReader, range: ReportRange): Promise<DeliveryReport> {
  const events: DeliveryEvent[] = [];
  for await (const e of reader.events(range)) events.push(e);
  return buildReport(events, range);
}
