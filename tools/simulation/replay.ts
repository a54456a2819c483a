/**
 * `npm run simulate:deterministic -- --seed N [--engine]`: replays one scenario of the
 * deterministic simulation (the pure workflow's by default, the real app's on the engine with
 * `--engine`), printing its trace; the same seed gives the same run. Without `--seed` it runs
 * both simulations with their fixed seeds and fresh ones.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

function main(argv: readonly string[]): number {
  const at = argv.indexOf('--seed');
  const seed = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && (seed === undefined || !/^\d+$/.test(seed))) {
    console.error(
      'usage: npm run simulate:deterministic -- [--seed N] [--engine]   (N: a whole number, as printed by a failing run)',
    );
    return 2;
  }
  const unknown = argv.filter((a, i) => a !== '--seed' && a !== '--engine' && !(at >= 0 && i === at + 1));
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}`);
    return 2;
  }
  const files =
    seed === undefined
      ? ['test/simulation']
      : [
          argv.includes('--engine')
            ? 'test/simulation/engine-simulation.test.ts'
            : 'test/simulation/decider-simulation.test.ts',
        ];
  const root = resolve(__dirname, '..', '..', '..');
  const vitest = resolve(root, 'node_modules', 'vitest', 'vitest.mjs');
  const run = spawnSync(process.execPath, [vitest, 'run', ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...(seed !== undefined ? { SIM_SEED: seed } : {}) },
  });
  return run.status ?? 1;
}

process.exit(main(process.argv.slice(2)));
