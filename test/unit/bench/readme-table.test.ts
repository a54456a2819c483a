/**
 * The README's performance table is the committed full run, nothing else: rendering keeps every
 * figure and verdict, Prettier's padding does not change what the table says, and the README on
 * `main` says exactly what bench/results.json says.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../../tools/bench/index';
import type { Row } from '../../../tools/bench/harness';
import {
  parseTable,
  renderSection,
  sectionOf,
  tableCells,
  verdict,
  writeReadmeTable,
  BEGIN,
  END,
} from '../../../tools/bench/readme-table';
import os from 'node:os';

const ROOT = path.resolve(__dirname, '../../..');

const row = (over: Partial<Row>): Row => ({
  metric: 'm',
  ours: 1,
  baseline: 1,
  ratio: 1,
  target: 'info',
  unit: 'u',
  ...over,
});

const results = (rows: Row[]): BenchResults => ({
  header: {
    date: '2026-12-02T12:00:00.000Z',
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryGiB: 23.5, platform: 'linux x64' },
    node: 'v20.0.0',
    mode: 'full',
    method: 'A/B interleaved, median of 5 rounds',
    durationSeconds: 321.4,
  },
  rows,
});

describe('the README performance table', () => {
  it('judges a row met, missed, or for information from its target', () => {
    expect(verdict(row({ ratio: 0.3, target: '>= 0.25' }))).toBe('met');
    expect(verdict(row({ ratio: 0.2, target: '>= 0.25' }))).toBe('missed');
    expect(verdict(row({ ratio: 1.2, target: '<= 1 (0.7 RU/event)' }))).toBe('missed');
    expect(verdict(row({ ratio: 0.9, target: '<= 1 (0.7 RU/event)' }))).toBe('met');
    expect(verdict(row({ ratio: 9, target: 'info' }))).toBe('info');
  });

  it('renders every row with its figures, and reads back the same cells however it is padded', () => {
    const r = results([
      row({ metric: 'drain | with a pipe', ours: 12_345.6, baseline: 1000, ratio: 12.3456, target: '>= 10' }),
      row({ metric: 'tiny', ours: 0.01234, baseline: 0.5, ratio: 0.02468, note: 'why it is tiny' }),
    ]);
    const section = renderSection(r);
    expect(section).toContain('2 × Test CPU');
    expect(section).toContain('1 targets met, 0 missed, 1 rows for information');
    expect(section).toContain('- **tiny**: why it is tiny');
    const cells = parseTable(section);
    expect(cells).toEqual(tableCells(r));
    expect(cells[0]).toEqual(['drain | with a pipe', '12,346', '1,000', '12.35', '>= 10', 'met', 'u']);
    const padded = section.replace(/ \| /g, '   |   ');
    expect(parseTable(padded)).toEqual(cells);
  });

  it('is rewritten in place between its markers, the rest of the README kept, and stays as Prettier leaves it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-table-'));
    try {
      const file = path.join(dir, 'README.md');
      fs.writeFileSync(file, `# Title\n\nBefore.\n\n${BEGIN}\n\nold\n\n${END}\n\n## After\n\nKept.\n`);
      const r = results([row({ metric: 'a', ratio: 2, target: '>= 1' }), row({ metric: 'b', note: 'n' })]);
      await writeReadmeTable(file, r);
      const text = fs.readFileSync(file, 'utf8');
      expect(text.startsWith('# Title\n\nBefore.\n')).toBe(true);
      expect(text.endsWith('## After\n\nKept.\n')).toBe(true);
      expect(text).not.toContain('old');
      expect(parseTable(sectionOf(text) ?? '')).toEqual(tableCells(r));
      const prettier = await import('prettier');
      expect(await prettier.format(text, { filepath: file })).toBe(text);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on main says what the committed full run in bench/results.json says, and claims no run when none is committed', () => {
    const section = sectionOf(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(section, 'README.md has the bench markers').toBeDefined();
    const file = path.join(ROOT, 'bench', 'results.json');
    if (!fs.existsSync(file)) {
      expect(parseTable(section ?? '')).toEqual([]);
      expect(section).toContain('No full run has been recorded yet.');
      return;
    }
    const committed = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResults;
    expect(committed.header.mode).toBe('full');
    expect(parseTable(section ?? '')).toEqual(tableCells(committed));
    expect(section).toContain(`Full run of ${committed.header.date.slice(0, 10)}`);
  });
});
