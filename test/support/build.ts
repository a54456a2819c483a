/**
 * The build the end-to-end and benchmark tests run against, as `npm run build` does it: the app
 * into dist/, the local runtime package into packages/functions-local/dist, the tools into
 * dist-tools/ (in that order: the tools compile against the package's typings). Others may be
 * mid-edit in this tree: type errors are reported but the output is used anyway, since tsc still
 * emits everything it can.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The three projects of `npm run build`, in build order. */
export const BUILD_PROJECTS = [
  'tsconfig.build.json',
  'packages/functions-local/tsconfig.json',
  'tsconfig.tools.json',
] as const;

/** Where a tool's compiled entry lands, e.g. toolEntry('local', 'start.js'). */
export function toolEntry(...segments: string[]): string {
  return path.join(ROOT, 'dist-tools', 'tools', ...segments);
}

export function buildAll(): void {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const project of BUILD_PROJECTS) {
    const result = spawnSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, encoding: 'utf8' });
    if (result.status !== 0)
      console.warn(
        `tsc -p ${project} reported problems (the build output is used anyway):\n${result.stdout}${result.stderr}`,
      );
  }
}
