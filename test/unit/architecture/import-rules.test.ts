/**
 * The rooms rule (docs/architecture.md): the deployable app, functions/ and domain/, never
 * imports the local runtime package or tools/. ESLint enforces it (eslint.config.mjs); these
 * tests run the real config through ESLint's Node API so the rule cannot quietly stop firing,
 * and scan the runtime package's sources for the other direction: it imports nothing of the app.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const eslint = new ESLint({ cwd: ROOT });

async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('functions/ and domain/ never import the runtime package or tools/', () => {
  it.each([
    [
      'functions/x.ts',
      "import { startLocalRuntime } from '@fabrikam/functions-local';\nexport const s = startLocalRuntime;\n",
    ],
    [
      'functions/http/x.ts',
      "import { HttpHost } from '../../packages/functions-local/src/http/host';\nexport const h = HttpHost;\n",
    ],
    ['functions/x.ts', "import { repoRoot } from '../tools/local/fabrikam';\nexport const r = repoRoot;\n"],
    [
      'functions/adapters/x.ts',
      "import type { Clock } from '../../packages/functions-local/src/clock';\nexport type C = Clock;\n",
    ],
    [
      'domain/delivery/x.ts',
      "import { startLocalRuntime } from '@fabrikam/functions-local';\nexport const s = startLocalRuntime;\n",
    ],
    ['domain/x.ts', "import { x } from '../packages/functions-local/src/index';\nexport const y = x;\n"],
  ])('%s: %s is refused', async (file, code) => {
    const messages = await restrictedImports(code, file);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join('\n')).toMatch(/never import (the local runtime|tools\/)|depends on nothing outside itself/);
  });

  it.each([
    [
      'functions/x.ts',
      "import { app } from '@azure/functions';\nimport { SETTINGS } from './config';\nexport const a = [app, SETTINGS];\n",
    ],
    [
      'functions/http/x.ts',
      "import { problemResponse } from './problem';\nimport type { Caller } from '../../domain/shared/caller';\nexport const p = problemResponse;\nexport type C = Caller;\n",
    ],
    ['domain/delivery/x.ts', "import type { FieldError } from '../shared/errors';\nexport type F = FieldError;\n"],
  ])('%s: a legal import passes', async (file, code) => {
    expect(await restrictedImports(code, file)).toEqual([]);
  });

  it('tools/ may import both the app and the runtime package', async () => {
    const code =
      "import { startLocalRuntime } from '@fabrikam/functions-local';\nimport { EVENT_HUBS } from '../functions/resources';\nexport const x = [startLocalRuntime, EVENT_HUBS];\n";
    expect(await restrictedImports(code, 'tools/x.ts')).toEqual([]);
  });
});

describe('the runtime package imports nothing of the app or the tools', () => {
  const src = path.join(ROOT, 'packages', 'functions-local', 'src');
  const files = fs.readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const specifiers = (file: string): string[] =>
    [...fs.readFileSync(path.join(src, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map(
      (m) => m[1] as string,
    );

  it('has sources to scan', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('%s', (file) => {
    const escaping = specifiers(file).filter((s) => {
      if (!s.startsWith('.')) return /^@fabrikam\/(?!functions-local)/.test(s);
      const target = path.resolve(path.dirname(path.join(src, file)), s);
      return !target.startsWith(src + path.sep);
    });
    expect(escaping).toEqual([]);
  });
});
