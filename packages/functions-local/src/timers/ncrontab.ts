/**
 * Six-field NCRONTAB expressions as the Functions timer trigger reads them:
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, each field `*`, a value, a range
 * `a-b`, a step `*\/n`, `a-b/n` or `a/n`, or a comma list of those; months and days of week also
 * by name (`JAN`, `MON-FRI`). Occurrences are computed in UTC, the host's default time zone.
 *
 * Like NCrontab (and unlike Vixie cron), a time must match the day-of-month AND the day-of-week
 * field when both are restricted.
 */

export interface CronSchedule {
  readonly expression: string;
  readonly seconds: ReadonlySet<number>;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

export class CronExpressionError extends Error {
  constructor(expression: string, reason: string) {
    super(`Invalid NCRONTAB expression "${expression}": ${reason}`);
    this.name = 'CronExpressionError';
  }
}

function parseValue(text: string, spec: FieldSpec): number {
  const byName = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + spec.min;
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a number${spec.names ? ' or a name' : ''}`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) throw new Error(`${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const element of text.split(',')) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(element);
    if (!m) throw new Error(`"${element}" is not a value, range or step`);
    const [, range = '', stepText] = m;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) throw new Error(`step in "${element}" must be at least 1`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range.includes('-')) {
      const [a = '', b = '', ...rest] = range.split('-');
      if (rest.length > 0) throw new Error(`"${range}" is not a range`);
      from = parseValue(a, spec);
      to = parseValue(b, spec);
      if (from > to) throw new Error(`range "${range}" runs backwards`);
    } else {
      from = parseValue(range, spec);
      // `a/n` means from a to the end in steps of n; a bare value is just itself.
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseNcrontab(expression: string): CronSchedule {
  const parts = expression
    .trim()
    .split(/\s+/)
    .filter((p) => p !== '');
  if (parts.length !== 6) {
    throw new CronExpressionError(
      expression,
      `expected 6 fields (second minute hour day month day-of-week), got ${parts.length}` +
        (/^\d+:\d+(:\d+)?$/.test(expression.trim())
          ? ' (TimeSpan schedules are not supported by the local runtime)'
          : ''),
    );
  }
  const sets = parts.map((text, i) => {
    const spec = FIELDS[i] as FieldSpec;
    try {
      return parseField(text, spec);
    } catch (e) {
      throw new CronExpressionError(expression, `${spec.name} field "${text}": ${(e as Error).message}`);
    }
  });
  const [seconds, minutes, hours, days, months, daysOfWeek] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  const maxDay = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (![...months].some((m) => [...days].some((d) => d <= (maxDay[m - 1] ?? 31)))) {
    throw new CronExpressionError(expression, 'no month has any of the given days, so it never fires');
  }
  return { expression, seconds, minutes, hours, days, months, daysOfWeek };
}

/** The first occurrence strictly after `after` (ms since epoch), or undefined within ~10 years. */
export function nextOccurrence(schedule: CronSchedule, after: number): number | undefined {
  const d = new Date(Math.floor(after / 1000) * 1000 + 1000);
  const limit = after + 10 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!schedule.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.days.has(d.getUTCDate()) || !schedule.daysOfWeek.has(d.getUTCDay())) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    if (!schedule.seconds.has(d.getUTCSeconds())) {
      d.setUTCSeconds(d.getUTCSeconds() + 1, 0);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}

/** The next `count` occurrences after `after`. */
export function nextOccurrences(schedule: CronSchedule, after: number, count: number): number[] {
  const out: number[] = [];
  let t = after;
  while (out.length < count) {
    const n = nextOccurrence(schedule, t);
    if (n === undefined) break;
    out.push(n);
    t = n;
  }
  return out;
}
