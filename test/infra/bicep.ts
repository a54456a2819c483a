/**
 * A small reader of Bicep text for the infrastructure tests (no Bicep compiler runs on these
 * machines): comments stripped, top-level statements split with their decorators, and what the
 * tests ask of them: parameters with their descriptions, modules with their sources, outputs,
 * the keys of an object literal and the string pairs of a map. Values the templates compute
 * (hubs, containers, settings, the role table) come from infra/generated/*.json, which the tests
 * read as JSON, so no expression parser is needed.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const INFRA = path.join(REPO, 'infra');

export type StatementKind =
  'param' | 'var' | 'module' | 'resource' | 'output' | 'type' | 'func' | 'import' | 'targetScope' | 'metadata';

export interface Statement {
  readonly kind: StatementKind;
  readonly name: string;
  readonly decorators: readonly string[];
  /** The statement without its decorators, comments stripped. */
  readonly text: string;
}

export interface BicepFile {
  readonly file: string;
  readonly code: string;
  readonly statements: readonly Statement[];
}

/** Every .bicep file under infra/, sorted. */
export function bicepFiles(dir = INFRA): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.bicep')) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

export function readBicep(file: string): BicepFile {
  const code = stripComments(fs.readFileSync(file, 'utf8'));
  return { file, code, statements: splitStatements(code) };
}

/** Index just past the string starting at `i` (`'…'` with escapes, or `'''…'''`). */
function endOfString(src: string, i: number): number {
  if (src.startsWith("'''", i)) {
    const end = src.indexOf("'''", i + 3);
    return end < 0 ? src.length : end + 3;
  }
  let j = i + 1;
  while (j < src.length && src[j] !== "'") j += src[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Removes `//` and block comments outside strings; newlines stay so statements keep their lines. */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src[i] === "'") {
      const stop = endOfString(src, i);
      out += src.slice(i, stop);
      i = stop;
    } else if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, '');
      i = stop;
    } else out += src[i++];
  }
  return out;
}

const KEYWORDS: readonly StatementKind[] = [
  'param',
  'var',
  'module',
  'resource',
  'output',
  'type',
  'func',
  'import',
  'targetScope',
  'metadata',
];

/** Top-level statements: each starts at column 0 outside any bracket or string, after its decorators. */
export function splitStatements(code: string): Statement[] {
  const starts: number[] = [];
  let depth = 0;
  let lineStart = true;
  for (let i = 0; i < code.length; i++) {
    const c = code[i] ?? '';
    if (c === "'") {
      i = endOfString(code, i) - 1;
      lineStart = false;
      continue;
    }
    if (lineStart && depth === 0 && !/\s/.test(c)) starts.push(i);
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    lineStart = c === '\n';
  }
  const statements: Statement[] = [];
  let decorators: string[] = [];
  for (const [k, s] of starts.entries()) {
    const chunk = code.slice(s, starts[k + 1] ?? code.length).trim();
    if (chunk.startsWith('@')) {
      decorators.push(chunk);
      continue;
    }
    const kind = KEYWORDS.find((w) => chunk === w || chunk.startsWith(`${w} `) || chunk.startsWith(`${w}=`));
    if (!kind) throw new Error(`unrecognised top-level text: ${chunk.slice(0, 60)}`);
    statements.push({ kind, name: /^\w+\s+([A-Za-z_]\w*)/.exec(chunk)?.[1] ?? '', decorators, text: chunk });
    decorators = [];
  }
  return statements;
}

export function statement(file: BicepFile, kind: StatementKind, name: string): Statement {
  const s = file.statements.find((x) => x.kind === kind && x.name === name);
  if (!s) throw new Error(`${path.relative(REPO, file.file)} has no ${kind} ${name}`);
  return s;
}

export interface ParamInfo {
  readonly name: string;
  readonly description: string | undefined;
  readonly hasDefault: boolean;
  readonly nullable: boolean;
  readonly decorators: readonly string[];
}

export function params(file: BicepFile): ParamInfo[] {
  return file.statements
    .filter((s) => s.kind === 'param')
    .map((s) => {
      const description = s.decorators
        .map((d) => /^@description\(\s*'((?:[^'\\]|\\.)*)'\s*\)$/s.exec(d)?.[1])
        .find((d) => d !== undefined);
      const head = /^param\s+\w+\s+([^=]*)(=?)/.exec(s.text);
      return {
        name: s.name,
        description: description?.replace(/\\'/g, "'"),
        hasDefault: head?.[2] === '=',
        nullable: (head?.[1] ?? '').trim().endsWith('?'),
        decorators: s.decorators,
      };
    });
}

export function outputs(file: BicepFile): string[] {
  return file.statements.filter((s) => s.kind === 'output').map((s) => s.name);
}

export interface ModuleRef {
  readonly symbol: string;
  readonly source: string;
  readonly text: string;
}

export function modules(file: BicepFile): ModuleRef[] {
  return file.statements
    .filter((s) => s.kind === 'module')
    .map((s) => ({ symbol: s.name, source: /^module\s+\w+\s+'([^']+)'/.exec(s.text)?.[1] ?? '', text: s.text }));
}

export function moduleNamed(file: BicepFile, symbol: string): ModuleRef {
  const m = modules(file).find((x) => x.symbol === symbol);
  if (!m) throw new Error(`${path.relative(REPO, file.file)} has no module ${symbol}`);
  return m;
}

/** The top-level keys of the object literal a `var` holds (`var x = { a: …, 'b-c': … }`). */
export function objectKeys(file: BicepFile, varName: string): string[] {
  const text = statement(file, 'var', varName).text;
  const body = text.slice(text.indexOf('{') + 1);
  const keys: string[] = [];
  let depth = 0;
  for (const line of body.split('\n')) {
    if (depth === 0) {
      const m = /^\s*(?:'([^']+)'|([A-Za-z_$][\w$]*))\s*:/.exec(line);
      const key = m?.[1] ?? m?.[2];
      if (key) keys.push(key);
    }
    for (const c of line.replace(/'(?:[^'\\]|\\.)*'/g, '')) {
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
    }
  }
  return keys;
}

/** `'Name': 'value'` (or `name: 'value'`) pairs of a `var` holding a map of strings. */
export function stringMap(file: BicepFile, varName: string): Record<string, string> {
  const text = statement(file, 'var', varName).text;
  return Object.fromEntries(
    [...text.matchAll(/^\s*(?:'([^']+)'|([A-Za-z_]\w*))\s*:\s*'([^']*)'\s*$/gm)].map((m) => [
      m[1] ?? m[2] ?? '',
      m[3] ?? '',
    ]),
  );
}

/** `cond ? a : b` → the branch a profile takes, for the simple ternaries the templates use. */
export function branch(expression: string, condition: boolean): string {
  const m = /^\s*[\w.!() &|=']+\?\s*([\s\S]+?)\s*:\s*([\s\S]+?)\s*$/.exec(expression);
  if (!m?.[1] || !m[2]) throw new Error(`not a simple ternary: ${expression}`);
  return condition ? m[1] : m[2];
}

/** The value text of `key:` inside a statement or module body (one line). */
export function property(text: string, key: string): string | undefined {
  return new RegExp(`^\\s*${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
}
