/** ISO-8601 UTC instants as the contract writes them: `2026-11-22T10:00:05Z`, optional fraction. */
export const ISO_UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digits2 = (s: string, i: number): number => (s.charCodeAt(i) - 48) * 10 + (s.charCodeAt(i + 1) - 48);

/**
 * For a string that matches ISO_UTC_PATTERN (digits in place): is it a real calendar instant?
 * Date.parse is both slower and lenient (it reads 30 February as 2 March).
 */
export function isCalendarInstant(ts: string): boolean {
  const year = digits2(ts, 0) * 100 + digits2(ts, 2);
  const month = digits2(ts, 5);
  const day = digits2(ts, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const maxDay = month === 2 && !leap ? 28 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= maxDay && digits2(ts, 11) < 24 && digits2(ts, 14) < 60 && digits2(ts, 17) < 60;
}
