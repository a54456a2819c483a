/**
 * Compiles every .bicep file when a Bicep compiler is on PATH (`bicep`, or `az bicep`). These
 * machines have none, so the test is skipped there, and says so; the text-level tests beside
 * it still run. Registry modules (br/public:avm/...) are restored from the public registry, so
 * a machine with Bicep also needs network access to it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepFiles, REPO } from './bicep';

const runs = (cmd: string, args: readonly string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 }).status === 0;

const compiler: readonly string[] | undefined = runs('bicep', ['--version'])
  ? ['bicep', 'build', '--stdout']
  : runs('az', ['bicep', 'version'])
    ? ['az', 'bicep', 'build', '--stdout', '--file']
    : undefined;
const hasBicep = compiler !== undefined;

if (!hasBicep) {
  console.warn('test/infra: skipping `bicep build` of infra/**/*.bicep: neither `bicep` nor `az bicep` is on PATH. Install the Bicep CLI to compile the templates.');
}

describe('bicep build', () => {
  it.skipIf(!hasBicep).each(bicepFiles().map((f) => path.relative(REPO, f)))('compiles %s (skipped when no bicep compiler is on PATH)', (file) => {
    const [cmd, ...args] = compiler ?? [];
    const r = spawnSync(cmd ?? 'bicep', [...args, path.join(REPO, file)], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
  });
});
