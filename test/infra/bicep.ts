/**
 * A small reader of Bicep text for the infrastructure tests (no Bicep compiler runs on these
 * machines): comments stripped, top-level statements split with their decorators, and literal
 * values (objects, arrays, strings, numbers, booleans) parsed, with anything else kept as an
 * expression's text. It reads the subset of Bicep that infra/ is written in; what it does not
 * understand becomes an `expr`, never a silent success.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
export const INFRA = path.join(REPO, 'infra');

export type BicepValue =
  | { readonly kind: 'string'; readonly value: string; readonly interpolated: boolean }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'object'; readonly entries: ReadonlyMap<string, BicepValue> }
  | { readonly kind: 'array'; readonly items: readonly BicepValue[] }
  | { readonly kind: 'expr'; readonly text: string };

export type StatementKind = 'param' | 'var' | 'module' | 'resource' | 'output' | 'type' | 'func' | 'import' | 'targetScope' | 'metadata';

export interface Statement {
  readonly kind: StatementKind;
  readonly name: string;
  readonly decorators: readonly string[];
  /** The statement without its decorators, comments stripped. */
  readonly text: string;
}

export interface BicepFile {
  readonly file: string;
  readonly raw: string;
  readonly code: string;
  readonly statements: readonly Statement[];
}

/** Every .bicep file under infra/, relative paths sorted. */
export function bicepFiles(dir = INFRA): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.bicep')) out.push(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

export function readBicep(file: string): BicepFile {
  const raw = fs.readFileSync(file, 'utf8');
  const code = stripComments(raw);
  return { file, raw, code, statements: splitStatements(code) };
}

/** Removes `//` and block comments outside strings; newlines are kept so positions stay on their lines. */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith("'''", i)) {
      const end = src.indexOf("'''", i + 3);
      const stop = end < 0 ? src.length : end + 3;
      out += src.slice(i, stop);
      i = stop;
    } else if (src[i] === "'") {
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
    } else {
      out += src[i];
      i++;
    }
  }
  return out;
}

/** Index just past a single-quoted string starting at `start` (interpolations may nest strings). */
function endOfString(src: string, start: number): number {
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else if (c === '$' && src[i + 1] === '{') {
      i = skipBalanced(src, i + 1);
    } else i++;
  }
  return src.length;
}

/** Index just past a `'…'` or `'''…'''` string starting at `start`. */
function endOfAnyString(src: string, start: number): number {
  if (!src.startsWith("'''", start)) return endOfString(src, start);
  const end = src.indexOf("'''", start + 3);
  return end < 0 ? src.length : end + 3;
}

/** Index just past the bracket group opening at `open` (`(`, `[` or `{`), strings respected. */
function skipBalanced(src: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < src.length) {
    const c = src[i];
    if (src.startsWith("'''", i)) {
      const end = src.indexOf("'''", i + 3);
      i = end < 0 ? src.length : end + 3;
      continue;
    }
    if (c === "'") {
      i = endOfString(src, i);
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return src.length;
}

const KEYWORDS: readonly StatementKind[] = ['param', 'var', 'module', 'resource', 'output', 'type', 'func', 'import', 'targetScope', 'metadata'];

/** Top-level statements: each starts at column 0 outside any bracket, after its decorators. */
export function splitStatements(code: string): Statement[] {
  const starts: number[] = [];
  let i = 0;
  let lineStart = true;
  while (i < code.length) {
    const c = code[i];
    if (lineStart && c !== undefined && c !== '\n' && c !== ' ' && c !== '\t' && c !== '\r') starts.push(i);
    lineStart = false;
    if (c === '\n') {
      lineStart = true;
      i++;
    } else if (c === "'" || c === '(' || c === '[' || c === '{') {
      i = c === "'" ? endOfAnyString(code, i) : skipBalanced(code, i);
    } else i++;
  }
  const chunks = starts.map((s, k) => code.slice(s, starts[k + 1] ?? code.length).trim());
  const statements: Statement[] = [];
  let decorators: string[] = [];
  for (const chunk of chunks) {
    if (chunk.startsWith('@')) {
      decorators.push(chunk);
      continue;
    }
    const kind = KEYWORDS.find((k) => chunk.startsWith(`${k} `) || chunk.startsWith(`${k}=`) || chunk === k);
    if (!kind) throw new Error(`unrecognised top-level text: ${chunk.slice(0, 60)}`);
    const name = /^\w+\s+([A-Za-z_]\w*)/.exec(chunk)?.[1] ?? '';
    statements.push({ kind, name, decorators, text: chunk });
    decorators = [];
  }
  return statements;
}

export function statement(file: BicepFile, kind: StatementKind, name: string): Statement {
  const s = file.statements.find((x) => x.kind === kind && x.name === name);
  if (!s) throw new Error(`${path.relative(REPO, file.file)} has no ${kind} ${name}`);
  return s;
}

/** The value of `var name = …`, parsed. */
export function varValue(file: BicepFile, name: string): BicepValue {
  const s = statement(file, 'var', name);
  const eq = s.text.indexOf('=');
  return parseValue(s.text.slice(eq + 1));
}

export interface ParamInfo {
  readonly name: string;
  readonly description: string | undefined;
  readonly hasDefault: boolean;
  readonly nullable: boolean;
}

export function params(file: BicepFile): ParamInfo[] {
  return file.statements
    .filter((s) => s.kind === 'param')
    .map((s) => {
      const desc = s.decorators.map((d) => /^@(?:sys\.)?description\(\s*'((?:[^'\\]|\\.)*)'\s*\)$/s.exec(d)?.[1]).find((d) => d !== undefined);
      const head = /^param\s+\w+\s+(.*)$/s.exec(s.text)?.[1] ?? '';
      const eq = topLevelIndexOf(head, '=');
      const type = (eq < 0 ? head : head.slice(0, eq)).trim();
      return { name: s.name, description: desc?.replace(/\\'/g, "'"), hasDefault: eq >= 0, nullable: type.endsWith('?') };
    });
}

/** Names declared by `output NAME type = …`. */
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

function topLevelIndexOf(text: string, ch: string): number {
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") i = endOfString(text, i);
    else if (c === '(' || c === '[' || c === '{' || c === '<') {
      if (c === '<') {
        const close = text.indexOf('>', i);
        i = close < 0 ? text.length : close + 1;
      } else i = skipBalanced(text, i);
    } else if (c === ch && text[i + 1] !== '=' && text[i - 1] !== '=' && text[i - 1] !== '!' && text[i - 1] !== '<' && text[i - 1] !== '>') return i;
    else i++;
  }
  return -1;
}

// ── Values ─────────────────────────────────────────────────────────────────────────────────

export function parseValue(text: string): BicepValue {
  const p = new ValueParser(text);
  const v = p.value();
  p.skipSpace(true);
  if (!p.done()) return { kind: 'expr', text: text.trim() };
  return v;
}

class ValueParser {
  i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  skipSpace(newlines: boolean): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) this.i++;
      else break;
    }
  }

  value(): BicepValue {
    this.skipSpace(true);
    const start = this.i;
    const literal = this.literal();
    if (literal && this.atValueEnd()) return literal;
    this.i = start;
    return this.expr();
  }

  /** After a value: only a separator, a closing bracket or the end may follow (a ternary line continues). */
  private atValueEnd(): boolean {
    let j = this.i;
    while (j < this.s.length && (this.s[j] === ' ' || this.s[j] === '\t' || this.s[j] === '\r')) j++;
    const c = this.s[j];
    if (c === undefined || c === ',' || c === '}' || c === ']') return true;
    if (c !== '\n') return false;
    while (j < this.s.length && /\s/.test(this.s[j] ?? '')) j++;
    const next = this.s[j];
    return !(next === '?' || next === ':' || next === '.' || this.s.startsWith('&&', j) || this.s.startsWith('||', j) || this.s.startsWith('??', j));
  }

  private literal(): BicepValue | undefined {
    const s = this.s;
    const c = s[this.i];
    if (c === '{') return this.object();
    if (c === '[') {
      if (/^\[\s*for\s/.test(s.slice(this.i))) return undefined;
      return this.array();
    }
    if (s.startsWith("'''", this.i)) {
      const end = s.indexOf("'''", this.i + 3);
      const value = s.slice(this.i + 3, end < 0 ? s.length : end);
      this.i = end < 0 ? s.length : end + 3;
      return { kind: 'string', value, interpolated: false };
    }
    if (c === "'") {
      const stop = endOfString(s, this.i);
      const body = s.slice(this.i + 1, stop - 1);
      this.i = stop;
      return { kind: 'string', value: body.replace(/\\(.)/g, '$1'), interpolated: body.includes('${') };
    }
    const m = /^(-?\d+(?:\.\d+)?)(?![\w.])/.exec(s.slice(this.i));
    if (m?.[1]) {
      this.i += m[1].length;
      return { kind: 'number', value: Number(m[1]) };
    }
    for (const [word, v] of [
      ['true', { kind: 'bool', value: true }],
      ['false', { kind: 'bool', value: false }],
      ['null', { kind: 'null' }],
    ] as const) {
      if (s.startsWith(word, this.i) && !/\w/.test(s[this.i + word.length] ?? '')) {
        this.i += word.length;
        return v;
      }
    }
    return undefined;
  }

  private object(): BicepValue {
    this.i++; // {
    const entries = new Map<string, BicepValue>();
    for (;;) {
      this.skipSeparators();
      if (this.done()) throw new Error('unterminated object');
      if (this.s[this.i] === '}') {
        this.i++;
        return { kind: 'object', entries };
      }
      let key: string;
      if (this.s.startsWith('...', this.i)) {
        this.i += 3;
        key = `...${entries.size}`;
        entries.set(key, this.expr());
        continue;
      }
      if (this.s[this.i] === "'") {
        const stop = endOfString(this.s, this.i);
        key = this.s.slice(this.i + 1, stop - 1);
        this.i = stop;
      } else {
        const m = /^[A-Za-z_$][\w$-]*/.exec(this.s.slice(this.i));
        if (!m) throw new Error(`bad object key near: ${this.s.slice(this.i, this.i + 40)}`);
        key = m[0];
        this.i += key.length;
      }
      this.skipSpace(false);
      if (this.s[this.i] !== ':') throw new Error(`expected ':' after ${key}`);
      this.i++;
      entries.set(key, this.value());
    }
  }

  private array(): BicepValue {
    this.i++; // [
    const items: BicepValue[] = [];
    for (;;) {
      this.skipSeparators();
      if (this.done()) throw new Error('unterminated array');
      if (this.s[this.i] === ']') {
        this.i++;
        return { kind: 'array', items };
      }
      items.push(this.value());
    }
  }

  private skipSeparators(): void {
    while (this.i < this.s.length && /[\s,]/.test(this.s[this.i] ?? '')) this.i++;
  }

  /** An expression: up to a separator or closing bracket at depth 0, following ternary continuation lines. */
  private expr(): BicepValue {
    const start = this.i;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "'") this.i = endOfAnyString(s, this.i);
      else if (c === '(' || c === '[' || c === '{') this.i = skipBalanced(s, this.i);
      else if (c === ',' || c === '}' || c === ']' || c === ')') break;
      else if (c === '\n') {
        if (this.atValueEnd()) break;
        this.i++;
      } else this.i++;
    }
    return { kind: 'expr', text: s.slice(start, this.i).trim() };
  }
}

// ── Helpers over values ─────────────────────────────────────────────────────────────────────

export function entry(v: BicepValue, key: string): BicepValue | undefined {
  return v.kind === 'object' ? v.entries.get(key) : undefined;
}

export function items(v: BicepValue): readonly BicepValue[] {
  if (v.kind !== 'array') throw new Error(`expected an array, got ${v.kind}`);
  return v.items;
}

export function keys(v: BicepValue): string[] {
  if (v.kind !== 'object') throw new Error(`expected an object, got ${v.kind}`);
  return [...v.entries.keys()].filter((k) => !k.startsWith('...'));
}

/**
 * A literal, or an expression that names a var (or a property path into one) holding a
 * literal, resolved; anything else stays an expression.
 */
export function resolve(file: BicepFile, v: BicepValue | undefined, depth = 0): BicepValue | undefined {
  if (!v || v.kind !== 'expr' || depth > 8) return v;
  const m = /^([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)*)$/.exec(v.text);
  if (!m?.[1]) return v;
  const root = file.statements.find((s) => s.kind === 'var' && s.name === m[1]);
  if (!root) return v;
  let cur: BicepValue | undefined = resolve(file, varValue(file, m[1]), depth + 1);
  for (const part of (m[2] ?? '').split('.').filter(Boolean)) cur = resolve(file, cur ? entry(cur, part) : undefined, depth + 1);
  return cur ?? v;
}

/** The literal string a value resolves to, if it does. */
export function resolvedString(file: BicepFile, v: BicepValue | undefined): string | undefined {
  const r = resolve(file, v);
  return r?.kind === 'string' && !r.interpolated ? r.value : r?.kind === 'number' ? String(r.value) : undefined;
}

/** Every `{ … }` object literal in `text` that has a top-level `key:` entry, parsed. */
export function objectsWithKey(text: string, key: string): BicepValue[] {
  const found: BicepValue[] = [];
  const re = new RegExp(`(^|[\\s{,])${key}\\s*:`, 'g');
  for (const m of text.matchAll(re)) {
    const at = (m.index ?? 0) + (m[1]?.length ?? 0);
    const open = enclosingBrace(text, at);
    if (open < 0) continue;
    const v = parseValue(text.slice(open, skipBalanced(text, open)));
    if (v.kind === 'object' && v.entries.has(key) && !found.some((f) => JSON.stringify(show(f)) === JSON.stringify(show(v)))) found.push(v);
  }
  return found;
}

/** Index of the `{` whose object directly contains position `at`. */
function enclosingBrace(text: string, at: number): number {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '}' || c === ']' || c === ')') depth++;
    else if (c === '{' || c === '[' || c === '(') {
      if (depth === 0) return c === '{' ? i : -1;
      depth--;
    }
  }
  return -1;
}

/** A plain-data view of a value, for messages and comparisons. */
export function show(v: BicepValue | undefined): unknown {
  if (!v) return undefined;
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'null':
      return null;
    case 'object':
      return Object.fromEntries([...v.entries].map(([k, x]) => [k, show(x)]));
    case 'array':
      return v.items.map(show);
    case 'expr':
      return { expr: v.text };
    default: {
      const _exhaustive: never = v;
      return _exhaustive;
    }
  }
}
