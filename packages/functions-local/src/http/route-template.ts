/**
 * ASP.NET Core-style route templates, as the Functions host reads an HTTP trigger's `route`:
 * literal segments (case-insensitive), `{name}` parameters with constraints (`{id:int}`,
 * `{name:alpha}`, `{x:regex(^a+$)}`, `{n:int:min(1)}`), optional `{id?}` and defaults `{id=1}`
 * at the end, and a catch-all `{*rest}` as the last segment. Only whole-segment parameters are
 * supported (no `{a}.{b}` inside one segment): a template that uses one is rejected up front.
 */

type Constraint = (value: string) => boolean;

interface LiteralSegment {
  readonly kind: 'literal';
  readonly text: string;
}

interface ParameterSegment {
  readonly kind: 'parameter';
  readonly name: string;
  readonly constraints: readonly Constraint[];
  readonly optional: boolean;
  readonly defaultValue?: string;
}

interface CatchAllSegment {
  readonly kind: 'catchAll';
  readonly name: string;
  readonly constraints: readonly Constraint[];
}

type Segment = LiteralSegment | ParameterSegment | CatchAllSegment;

export interface RouteTemplate {
  readonly template: string;
  /** Route values when the path segments match (already URL-decoded), otherwise undefined. */
  match(segments: readonly string[]): Record<string, string> | undefined;
  /**
   * Sort key: lower wins when two templates match the same path (ASP.NET's precedence: literal
   * before constrained parameter before parameter before catch-all, segment by segment).
   */
  readonly precedence: readonly number[];
}

const INT32 = /^-?\d{1,10}$/;
const INT64 = /^-?\d{1,19}$/;
const GUID = /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i;

function intArgs(name: string, args: string | undefined, count: readonly number[]): number[] {
  const parts = (args ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!count.includes(parts.length) || parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new Error(`constraint "${name}" needs ${count.join(' or ')} integer argument(s), got "${args ?? ''}".`);
  }
  return parts.map(Number);
}

function constraintFor(spec: string): Constraint {
  const m = /^([A-Za-z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m) throw new Error(`constraint "${spec}" is not name or name(args).`);
  const name = (m[1] ?? '').toLowerCase();
  const args = m[2];
  const isInt = (v: string, re: RegExp, limit: bigint): boolean =>
    re.test(v) && BigInt(v) <= limit && BigInt(v) >= -limit - 1n;
  switch (name) {
    case 'int':
      return (v) => isInt(v, INT32, 2147483647n);
    case 'long':
      return (v) => isInt(v, INT64, 9223372036854775807n);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'guid':
      return (v) => GUID.test(v);
    case 'decimal':
    case 'double':
    case 'float':
      return (v) => v.trim() !== '' && Number.isFinite(Number(v));
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'required':
      return (v) => v !== '';
    case 'min': {
      const [min = 0] = intArgs(name, args, [1]);
      return (v) => INT64.test(v) && Number(v) >= min;
    }
    case 'max': {
      const [max = 0] = intArgs(name, args, [1]);
      return (v) => INT64.test(v) && Number(v) <= max;
    }
    case 'range': {
      const [min = 0, max = 0] = intArgs(name, args, [2]);
      return (v) => INT64.test(v) && Number(v) >= min && Number(v) <= max;
    }
    case 'minlength': {
      const [min = 0] = intArgs(name, args, [1]);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const [max = 0] = intArgs(name, args, [1]);
      return (v) => v.length <= max;
    }
    case 'length': {
      const [a = 0, b] = intArgs(name, args, [1, 2]);
      return b === undefined ? (v) => v.length === a : (v) => v.length >= a && v.length <= b;
    }
    case 'regex': {
      if (args === undefined || args === '') throw new Error('constraint "regex" needs a pattern.');
      // ASP.NET matches the pattern anywhere in the value, ignoring case: anchor it yourself with ^...$.
      const re = new RegExp(args, 'i');
      return (v) => re.test(v);
    }
    default:
      throw new Error(`unknown route constraint "${name}".`);
  }
}

/** Splits `name:c1:c2(args)` on the colons that are not inside a constraint's parentheses. */
function splitConstraints(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function parseSegment(raw: string, isLast: boolean): Segment {
  if (!raw.includes('{') && !raw.includes('}')) return { kind: 'literal', text: raw.toLowerCase() };
  if (!raw.startsWith('{') || !raw.endsWith('}')) {
    throw new Error(`segment "${raw}" mixes text and parameters, which this host does not support.`);
  }
  // Braces inside a regex constraint are written doubled, as in ASP.NET: `{code:regex(^\\d{{3}}$)}`.
  let body = raw.slice(1, -1).replace(/\{\{/g, '{').replace(/\}\}/g, '}');
  const catchAll = body.startsWith('*');
  if (catchAll) body = body.replace(/^\*\*?/, '');
  const [head = '', ...constraintSpecs] = splitConstraints(body);
  let name = head;
  let optional = false;
  let defaultValue: string | undefined;
  // Optional marker and default value may follow the name or the last constraint.
  const last = constraintSpecs.length > 0 ? (constraintSpecs[constraintSpecs.length - 1] ?? '') : name;
  const tail = /^(.*?)(\?|=(.*))?$/s.exec(last);
  if (tail?.[2]) {
    optional = tail[2] === '?';
    defaultValue = tail[3];
    if (constraintSpecs.length > 0) constraintSpecs[constraintSpecs.length - 1] = tail[1] ?? '';
    else name = tail[1] ?? '';
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`parameter name "${name}" is not valid.`);
  const constraints = constraintSpecs.map(constraintFor);
  if (catchAll) {
    if (!isLast) throw new Error(`catch-all "{*${name}}" must be the last segment.`);
    return { kind: 'catchAll', name, constraints };
  }
  return {
    kind: 'parameter',
    name,
    constraints,
    optional: optional || defaultValue !== undefined,
    ...(defaultValue !== undefined ? { defaultValue } : {}),
  };
}

export function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export function compileRouteTemplate(template: string): RouteTemplate {
  const rawSegments = splitPath(template);
  let segments: Segment[];
  try {
    segments = rawSegments.map((s, i) => parseSegment(s, i === rawSegments.length - 1));
    const firstOptional = segments.findIndex((s) => s.kind === 'parameter' && s.optional);
    if (
      firstOptional !== -1 &&
      segments.slice(firstOptional + 1).some((s) => s.kind !== 'catchAll' && !(s.kind === 'parameter' && s.optional))
    ) {
      throw new Error('optional parameters must come last.');
    }
  } catch (e) {
    throw new Error(`Route template "${template}": ${(e as Error).message}`);
  }
  const precedence = segments.map((s) =>
    s.kind === 'literal' ? 1 : s.kind === 'parameter' ? (s.constraints.length > 0 ? 3 : 4) : 5,
  );

  return {
    template,
    precedence,
    match(path: readonly string[]): Record<string, string> | undefined {
      const values: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i] as Segment;
        const value = path[i];
        if (seg.kind === 'catchAll') {
          const rest = path.slice(i).join('/');
          if (rest !== '' && !seg.constraints.every((c) => c(rest))) return undefined;
          if (rest !== '') values[seg.name] = rest;
          return values;
        }
        if (value === undefined) {
          if (seg.kind === 'parameter' && seg.optional) {
            if (seg.defaultValue !== undefined) values[seg.name] = seg.defaultValue;
            continue;
          }
          return undefined;
        }
        if (seg.kind === 'literal') {
          if (value.toLowerCase() !== seg.text) return undefined;
        } else {
          if (!seg.constraints.every((c) => c(value))) return undefined;
          values[seg.name] = value;
        }
      }
      return path.length <= segments.length ? values : undefined;
    },
  };
}

/** Orders templates so the most specific match is tried first. */
export function comparePrecedence(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}
