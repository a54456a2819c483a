/**
 * The deterministic simulation of the pure saga workflow: a fixed set of seeds (regressions
 * included) plus fresh ones each run, every scenario checked against every invariant. A failure
 * names its seed and the command that replays it.
 */
import { describe, expect, it } from 'vitest';
import { runDeciderScenario } from '../../tools/simulation/decider-world';
import { INVARIANTS } from '../../tools/simulation/invariants';
import { freshSeeds } from '../../tools/simulation/random';

/** Seeds that once found a bug (kept forever), then a plain range. */
const REGRESSION_SEEDS = [
  276, 285, 601, 1314, 1570, 2003, 2531, 2571,
  // A wrong-drone report from the drone about to be assigned was taken for its flight's report (a simulation fact, fixed there).
  739215114,
];
const FIXED = [...REGRESSION_SEEDS, ...Array.from({ length: 1500 }, (_, i) => i + 1)];
const only = process.env.SIM_SEED !== undefined ? [Number(process.env.SIM_SEED)] : undefined;
const fresh = only ? [] : freshSeeds(Number(process.env.SIM_FRESH ?? 1000));

describe('the saga workflow under seeded interleavings and faults', () => {
  it(
    `keeps every invariant in ${only ? 1 : FIXED.length} fixed and ${fresh.length} fresh scenarios`,
    () => {
      const seeds = only ?? [...FIXED, ...fresh];
      const failures: string[] = [];
      let deliveries = 0;
      let invariants = 0;
      const outcomes: Record<string, number> = {};
      for (const seed of seeds) {
        const trace: string[] = [];
        const r = runDeciderScenario(seed, only ? (l) => trace.push(l) : undefined);
        if (only) console.log(trace.join('\n'));
        deliveries += r.deliveries;
        invariants += r.invariants;
        for (const [k, v] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + v;
        if (r.violations.length > 0)
          failures.push(
            `seed ${seed} (replay: npm run simulate:deterministic -- --seed ${seed}): ${r.violations.join('; ')}`,
          );
      }
      console.log(
        `decider simulation: ${seeds.length} scenarios (fresh seeds ${fresh.slice(0, 3).join(', ')}${fresh.length > 3 ? ', …' : ''}), ` +
          `${deliveries} deliveries, ${invariants} invariant checks (${INVARIANTS.length} invariants), outcomes ${JSON.stringify(outcomes)}`,
      );
      expect(failures.slice(0, 10)).toEqual([]);
    },
    Math.max(120_000, (FIXED.length + fresh.length) * 20),
  );
});
