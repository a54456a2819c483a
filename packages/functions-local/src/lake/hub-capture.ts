/**
 * Capture for one hub of the local runtime: feeds every appended event to a CaptureWriter and
 * keeps, under the data directory, the position after the last event of a window the lake has
 * taken.
 */
import fs from 'node:fs';
import type { DataLakeServiceClient } from '@azure/storage-file-datalake';
import type { EventHub } from '../eventhubs';
import { describeError } from '../host/invocation';
import type { LocalLogger } from '../host/invocation';
import { CaptureWriter } from './capture-writer';
import type { CaptureInput, CapturedFile } from './capture-writer';
import type { CapturePropertyValue } from './capture-format';

/** Capture only carries numbers, strings, bytes and nulls in application properties. */
function captureProperties(props: Readonly<Record<string, unknown>>): Record<string, CapturePropertyValue> {
  const out: Record<string, CapturePropertyValue> = {};
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'number' || typeof v === 'string' || Buffer.isBuffer(v) || v === null) out[k] = v;
    else if (typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

/**
 * Capture for one hub: every appended event goes to a CaptureWriter; the position after the last
 * event of a window the lake has taken is kept under the data directory, so a restart resumes
 * where the lake stops (at least once: a crash between a file and its position writes those
 * events again, and the archive reader drops the repeats). A failing lake is retried by the
 * writer; the position never moves past a window the lake does not have.
 */
export class HubCapture {
  readonly #writer: CaptureWriter;
  readonly #hub: EventHub;
  readonly #file: string;
  readonly #positions: Record<string, number>;
  readonly #next = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;

  constructor(
    hub: EventHub,
    fileSystem: ReturnType<DataLakeServiceClient['getFileSystemClient']>,
    folder: string,
    windowMs: number,
    stateFile: string,
    log: LocalLogger,
  ) {
    this.#hub = hub;
    this.#file = stateFile;
    this.#positions = fs.existsSync(stateFile)
      ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, number>)
      : {};
    this.#writer = new CaptureWriter({
      fileSystem,
      // The folder the app's archive reader looks in (Capture names it after the namespace).
      namespace: folder,
      eventHub: hub.name,
      windowMs,
      onFile: (f) => this.#written(f, log),
      onRetry: (r) =>
        log(
          'warning',
          `Capture.${hub.name}`,
          `Partition ${r.partitionId}: writing ${r.path} failed (attempt ${r.attempt}: ${describeError(r.error)}); again in ${r.delayMs} ms.`,
        ),
    });
  }

  start(log: LocalLogger): void {
    for (const id of this.#hub.partitionIds) {
      this.#next.set(id, this.#positions[id] ?? 0);
      this.#feed(id, log);
    }
    this.#unsubscribe = this.#hub.onAppend((id) => this.#feed(id, log));
    this.#writer.start(1000, (e) => log('error', `Capture.${this.#hub.name}`, describeError(e)));
  }

  async stop(log: LocalLogger): Promise<void> {
    this.#unsubscribe?.();
    // Windows the lake would not take are not noted: the next start captures them again.
    await this.#writer.stop().catch((e: unknown) => log('warning', `Capture.${this.#hub.name}`, describeError(e)));
  }

  #feed(partitionId: string, log: LocalLogger): void {
    const from = this.#next.get(partitionId) ?? 0;
    const events = this.#hub.read(partitionId, from);
    if (events.length === 0) return;
    for (const e of events) {
      const input: CaptureInput = {
        partitionId,
        sequenceNumber: e.sequenceNumber,
        offset: e.offset,
        enqueuedTime: new Date(e.enqueuedTimeMs),
        body: e.body,
        ...(e.partitionKey !== undefined ? { partitionKey: e.partitionKey } : {}),
        properties: captureProperties(e.properties),
      };
      this.#writer
        .add(input)
        .catch((err: unknown) =>
          log('error', `Capture.${this.#hub.name}`, `Partition ${partitionId}: ${describeError(err)}`),
        );
    }
    this.#next.set(partitionId, from + events.length);
  }

  #written(file: CapturedFile, log: LocalLogger): void {
    if (file.events === 0) return;
    this.#positions[file.partitionId] = Math.max(this.#positions[file.partitionId] ?? 0, file.lastSequenceNumber + 1);
    const temp = `${this.#file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(this.#positions));
    fs.renameSync(temp, this.#file);
    log(
      'information',
      `Capture.${this.#hub.name}`,
      `${file.events} event${file.events === 1 ? '' : 's'} → ${file.path} (${file.reason})`,
    );
  }
}
