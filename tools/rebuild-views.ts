/**
 * `npm run rebuild-views -- --from <ISO> --to <ISO> [--delivery <id>]`: the status-view rebuild
 * from the archive, outside any request timeout. The same use case and checks as
 * `POST /api/ops/rebuild-views`; settings come from the environment or local.settings.json.
 */
import { Composition } from '../functions/composition';
import { parseConfig } from '../functions/config';
import { checkRebuildRequest, rebuildViews } from '../functions/history/rebuild';
import { loadToolSettings, parseFlags } from './settings';

const USAGE = `usage: npm run rebuild-views -- --from <ISO-8601 UTC> --to <ISO-8601 UTC> [--delivery <deliveryId>]
  Appends the archived delivery events of [from, to) to the event store (idempotent) and
  rebuilds the status views of the deliveries they touch.`;

async function main(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, { from: 'value', to: 'value', delivery: 'value', help: 'switch' });
  if (flags.help || flags.from === undefined || flags.to === undefined) {
    console.log(USAGE);
    return flags.help ? 0 : 2;
  }
  const request = checkRebuildRequest({
    from: flags.from,
    to: flags.to,
    ...(typeof flags.delivery === 'string' ? { deliveryId: flags.delivery } : {}),
  });
  if (!request.ok) {
    const errors = request.error.code === 'ValidationFailed' ? request.error.errors : [];
    console.error(
      `rebuild-views: ${request.error.message}\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
    );
    return 2;
  }
  const c = new Composition(parseConfig(loadToolSettings()));
  const archive = c.archiveReader();
  if (!archive) {
    console.error('rebuild-views: no archive reader is configured for this app (see Composition.archiveReader).');
    return 1;
  }
  const range = request.value;
  const report = await rebuildViews(archive.events(range), {
    ...c.historyDeps,
    ...(range.deliveryId !== undefined ? { deliveryId: range.deliveryId } : {}),
    onProgress: (p) =>
      console.log(
        `${p.phase.padEnd(6)} read ${p.eventsRead}, appended ${p.appended}, duplicates ${p.duplicates}, conflicts ${p.conflicts}; views written ${p.viewsWritten}, unchanged ${p.viewsUnchanged}`,
      ),
  });
  console.log(JSON.stringify(report));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`rebuild-views: ${(e as Error).message}`);
    process.exit(1);
  },
);
