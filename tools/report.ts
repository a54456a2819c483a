/** `npm run report`: the delivery report from the archive (tools/report/cli.ts). Settings from the environment or local.settings.json. */
import { runReport } from './report/cli';
import { loadToolSettings } from './settings';

runReport(process.argv.slice(2), {
  settings: loadToolSettings(),
  cwd: process.cwd(),
  out: (l) => console.log(l),
  err: (l) => console.error(l),
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`report: ${(e as Error).message}`);
    process.exit(1);
  },
);
