/**
 * The trigger-file convention, checked on the source: every `app.*` / `df.app.*` registration
 * sits in a file of its own, named for what it does (the registered name in kebab case), exports
 * its handler under the registered name (in camel case), and is the file's last statement, so a
 * reader finds any function by its name and reads its file top-down.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVITIES, FUNCTIONS, ORCHESTRATIONS } from '../../../functions/names';

const ROOT = join(__dirname, '../../..');
const NAMES: Record<string, Record<string, string>> = { FUNCTIONS, ORCHESTRATIONS, ACTIVITIES };
const REGISTRATION = /^(?:df\.)?app\.\w+\((\w+)\.(\w+),\s*(?:\{[\s\S]*?\bhandler:\s*(\w+)[\s\S]*?\}|(\w+))\);$/gm;

const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Registration {
  readonly file: string;
  readonly registeredName: string;
  readonly handler: string;
  readonly last: boolean;
  readonly exported: boolean;
}

function registrations(): Registration[] {
  return sourceFiles(join(ROOT, 'functions')).flatMap((path) => {
    const text = readFileSync(path, 'utf8');
    return [...text.matchAll(REGISTRATION)].map((m) => {
      const [whole, table = '', key = '', fromOptions, positional] = m;
      const handler = fromOptions ?? positional ?? '';
      return {
        file: relative(ROOT, path),
        registeredName: NAMES[table]?.[key] ?? `${table}.${key}`,
        handler,
        last: text.slice((m.index ?? 0) + whole.length).trim() === '',
        exported: new RegExp(`^export (?:async function\\*?|function\\*?|const) ${handler}\\b`, 'm').test(text),
      };
    });
  });
}

describe('trigger files', () => {
  const found = registrations();

  it('finds every registered function and activity in the source', () => {
    const all = [...Object.values(FUNCTIONS), ...Object.values(ORCHESTRATIONS), ...Object.values(ACTIVITIES)];
    expect(found.map((r) => r.registeredName).sort()).toEqual([...all].sort());
  });

  it('hold one registration each, in a file named for it, as the last statement, with the handler exported under its name', () => {
    const files = found.map((r) => r.file);
    expect(new Set(files).size).toBe(files.length);
    for (const r of found) {
      expect({ file: basename(r.file), handler: r.handler, last: r.last, exported: r.exported }, r.file).toEqual({
        file: `${kebab(r.registeredName)}.ts`,
        handler: camel(r.registeredName),
        last: true,
        exported: true,
      });
    }
  });
});
