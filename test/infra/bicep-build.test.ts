/**
 * Compiling the templates. Where a Bicep compiler is on PATH (`bicep`, or `az bicep`) every
 * entry template is built. These machines have none (and no registry access for the AVM
 * modules), so there the test checks instead that infra/README.md says what could not be checked
 * and gives the exact commands a user runs: `az bicep build` and `azd provision --preview`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INFRA } from './bicep';

const runs = (cmd: string, args: readonly string[]): boolean =>
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 }).status === 0;
const compiler: readonly string[] | undefined = runs('bicep', ['--version'])
  ? ['bicep', 'build', '--stdout']
  : runs('az', ['bicep', 'version'])
    ? ['az', 'bicep', 'build', '--stdout', '--file']
    : undefined;

describe('bicep build', () => {
  it('compiles infra/main.bicep where a compiler exists; otherwise the README says so and gives the commands', () => {
    if (compiler) {
      const [cmd, ...args] = compiler;
      const r = spawnSync(cmd ?? 'bicep', [...args, path.join(INFRA, 'main.bicep')], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
      return;
    }
    const readme = fs.readFileSync(path.join(INFRA, 'README.md'), 'utf8');
    expect(readme).toMatch(/## What could not be checked here/);
    expect(readme).toContain('az bicep build --file infra/main.bicep');
    expect(readme).toContain('azd provision --preview');
  });
});
