/**
 * `npm run deadletter -- list|replay [options]`: reads the dead-letter container and replays
 * what now validates. Settings come from the environment or local.settings.json.
 */
import { DefaultAzureCredential } from '@azure/identity';
import { blobServiceFrom } from '../functions/composition';
import { parseDeadLetterStorage } from '../functions/config';
import { BLOB_CONTAINERS } from '../functions/resources';
import { readDeadLetters, replayDeadLetters } from './deadletter/replay';
import { AzureEventHubsPublisher, LocalRuntimePublisher } from '../functions/adapters/event-publishers';
import { loadToolSettings, parseFlags } from './settings';
import type { EventPublisher } from '../domain/shared/ports';

const USAGE = `usage: npm run deadletter -- <command> [options]
commands:
  list      list dead-lettered events with their reasons
            --source <telemetry|delivery-events>  --reason <reason>  --json
  replay    re-validate every dead letter not yet replayed and re-publish the valid ones
            --target <local|azure> (default local)  --url <base url> (default http://127.0.0.1:7071)
            --source <telemetry|delivery-events>  --reason <reason>  (only these; e.g. --reason RetriesExhausted
            re-publishes the events of batches that failed their last retry)
            --dry-run  (validate and count, publish nothing)`;

async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseFlags(argv, {
    source: 'value',
    reason: 'value',
    json: 'switch',
    target: 'value',
    url: 'value',
    'dry-run': 'switch',
    help: 'switch',
  });
  const command = positional[0];
  if (flags.help || !command) {
    console.log(USAGE);
    return command || flags.help ? 0 : 2;
  }
  const settings = loadToolSettings();
  const container = blobServiceFrom(
    parseDeadLetterStorage(settings),
    () => new DefaultAzureCredential(),
  ).getContainerClient(BLOB_CONTAINERS.deadLetter.name);

  if (command === 'list') {
    let n = 0;
    for await (const l of readDeadLetters(container, {
      ...(typeof flags.source === 'string' ? { source: flags.source } : {}),
      ...(typeof flags.reason === 'string' ? { reason: flags.reason } : {}),
    })) {
      n++;
      if (flags.json) console.log(JSON.stringify(l));
      else {
        const o = l.origin;
        const where = `${o.eventHubName}/${o.partitionId ?? '?'}#${o.sequenceNumber ?? '?'}`;
        const first = l.errors[0];
        console.log(
          `${l.deadLetteredAt}  ${l.reason.padEnd(24)} ${where.padEnd(28)} ${first ? `${first.path} ${first.message}` : ''}${l.replayedAt ? `  (replayed ${l.replayedAt})` : ''}`,
        );
      }
    }
    if (!flags.json) console.log(`${n} dead letter(s)`);
    return 0;
  }

  if (command === 'replay') {
    const target = typeof flags.target === 'string' ? flags.target : 'local';
    let publisher: EventPublisher;
    if (target === 'local')
      publisher = new LocalRuntimePublisher(typeof flags.url === 'string' ? flags.url : 'http://127.0.0.1:7071');
    else if (target === 'azure') {
      const namespace = settings.EventHubConnection__fullyQualifiedNamespace;
      if (!namespace) throw new Error('EventHubConnection__fullyQualifiedNamespace is required for --target azure');
      publisher = new AzureEventHubsPublisher(namespace);
    } else throw new Error(`--target must be local or azure, got ${target}`);
    try {
      const filter = {
        ...(typeof flags.source === 'string' ? { source: flags.source } : {}),
        ...(typeof flags.reason === 'string' ? { reason: flags.reason } : {}),
      };
      const report = await replayDeadLetters(container, publisher, {
        dryRun: flags['dry-run'] === true,
        progress: (l) => console.log(l),
        filter,
      });
      console.log(
        `${flags['dry-run'] ? '(dry run) ' : ''}examined ${report.examined}: replayed ${report.replayed}, still invalid ${report.stillInvalid}, already replayed ${report.alreadyReplayed}, not replayable ${report.unsupportedSource}`,
      );
    } finally {
      await publisher.close();
    }
    return 0;
  }
  console.error(`unknown command "${command}"\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`deadletter: ${(e as Error).message}`);
    process.exit(1);
  },
);
