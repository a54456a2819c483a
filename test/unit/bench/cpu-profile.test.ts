import { describe, expect, it } from 'vitest';
import { cpuByPart, GC, NODE_CORE, profiled, V8 } from '../../../tools/bench/cpu-profile';
import type { CpuProfile, Part } from '../../../tools/bench/cpu-profile';

const frame = (id: number, url: string, children: number[] = [], functionName = 'f') => ({
  id,
  callFrame: { functionName, url },
  children,
});

const parts: Part[] = [
  { name: 'stand-in', matches: (u) => u.includes('/cosmosdb-server/') },
  { name: 'SDK', matches: (u) => u.includes('/@azure/cosmos/') },
  { name: 'host', matches: (u) => u.includes('/functions-local/') },
];

// (root) ─┬─ host ── node:_http_server ── SDK ── node:net
//         ├─ node:internal/streams ── raw-body (a package no part names)
//         ├─ node:internal/timers            (nothing named above it)
//         ├─ (garbage collector), (program), (idle)
//         └─ stand-in ── raw-body
const profile: CpuProfile = {
  nodes: [
    frame(1, '', [2, 6, 8, 9, 10, 11, 12], '(root)'),
    frame(2, 'file:///app/packages/functions-local/dist/http/host.js', [3]),
    frame(3, 'node:_http_server', [4]),
    frame(4, 'file:///app/node_modules/@azure/cosmos/dist/index.js', [5]),
    frame(5, 'node:net'),
    frame(6, 'node:internal/streams/readable', [7]),
    frame(7, 'file:///app/node_modules/raw-body/index.js'),
    frame(8, 'node:internal/timers'),
    frame(9, '', [], '(garbage collector)'),
    frame(10, '', [], '(program)'),
    frame(11, '', [], '(idle)'),
    frame(12, 'file:///app/node_modules/@vercel/cosmosdb-server/lib/index.js', [13]),
    frame(13, 'file:///app/node_modules/raw-body/index.js'),
  ],
  // Each sample stands for the delta that follows it.
  samples: [2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 12],
  timeDeltas: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
};

describe('splitting a CPU profile between the parts of the system', () => {
  const split = Object.fromEntries(cpuByPart(profile, parts).map((p) => [p.part, p.micros]));

  it('charges a frame to the part its script belongs to', () => {
    expect(split['host']).toBe(10 + 20); // its own frame, and the HTTP parsing it called
  });

  it('charges Node core and unnamed packages to the nearest caller that belongs to a part', () => {
    expect(split['SDK']).toBe(30 + 40); // its own frame and the socket write it asked for
    expect(split['stand-in']).toBe(100 + 100); // its own frame and the body parser it called (the last sample takes the previous interval)
  });

  it('keeps what no named part called as Node core, and GC and V8 as their own parts', () => {
    expect(split[NODE_CORE]).toBe(50 + 60); // raw-body under a stream, and a timer, with no named caller
    expect(split[GC]).toBe(70);
    expect(split[V8]).toBe(80);
  });

  it('leaves idle time out, since it is not CPU', () => {
    const total = cpuByPart(profile, parts).reduce((n, p) => n + p.micros, 0);
    // 11 samples standing for 10 + 20 + … + 100 + 100 µs, of which the idle one stands for 90.
    expect(total).toBe(650 - 90);
    expect(Object.keys(split)).not.toContain('');
  });

  it('lists the parts largest first', () => {
    const micros = cpuByPart(profile, parts).map((p) => p.micros);
    expect(micros).toEqual([...micros].sort((a, b) => b - a));
  });
});

describe('profiling real work in this process', () => {
  it('samples the work while it runs and attributes it to the script that spent it', async () => {
    const here = (u: string): boolean => u.includes('cpu-profile.test');
    const { result, profile: real } = await profiled(async () => {
      let x = 0;
      const until = performance.now() + 150;
      while (performance.now() < until) x += Math.sqrt(x + 1);
      return x;
    });
    expect(result).toBeGreaterThan(0);
    const split = cpuByPart(real, [{ name: 'this test', matches: here }]);
    expect(split[0]?.part).toBe('this test');
  });

  it('stops the profiler and passes the failure on when the work fails', async () => {
    await expect(profiled(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    // A second profile can start, so the first one was stopped.
    const { profile: again } = await profiled(async () => 1);
    expect(again.nodes.length).toBeGreaterThan(0);
  });
});
