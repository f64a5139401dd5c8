/**
 * Strict RFC 3339 date-time (section 5.6): `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`. `T` and `Z` may be
 * lower case (the ABNF strings are case-insensitive, section 5.6 NOTE); the space separator that
 * section 5.6 allows only "by mutual agreement" is rejected. Field ranges are checked here because
 * `Date.parse` silently rolls 2024-02-30 over into March.
 */

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant a strict RFC 3339 date-time names, or undefined when the text is not one. */
export function parseRfc3339(text: string): Date | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offHours = m[9] === undefined ? 0 : Number(m[9]);
  const offMinutes = m[10] === undefined ? 0 : Number(m[10]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  // Second 60 is a leap second (section 5.7); Date cannot hold it, so it counts as :59.
  if (hour > 23 || minute > 59 || second > 60 || offHours > 23 || offMinutes > 59) return undefined;
  const sign = m[8] === '-' ? -1 : 1;
  const fraction = m[7] ? Number(`0${m[7]}`) : 0;
  // Built field by field: Date.UTC would map years 0–99 onto 1900–1999.
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day);
  local.setUTCHours(hour, minute, Math.min(second, 59), Math.floor(fraction * 1000));
  const d = new Date(local.getTime() - sign * (offHours * 60 + offMinutes) * 60_000);
  // Cross-check with the platform's ISO parser (leap second spelled as :59 for it).
  if (Number.isNaN(Date.parse(text.replace(/:60(?=[.Zz+-])/, ':59')))) return undefined;
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * Whether RFC 3339 can write `date`: its four-digit years are 0000–9999. `toISOString` spells a year
 * past them `+033658-…` or `-000001-…`, which no date-time validator accepts (an ar member dated
 * 999999999999, an image config `created` of `+033658-09-27T01:46:39Z`).
 */
export function isRfc3339Instant(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 0 && year <= 9999;
}

/**
 * A date from native metadata: RFC 3339 first, then the other spellings formats use — Unix seconds
 * (rpm BUILDTIME) or an RFC 2822 / ISO 8601 date that `Date.parse` reads.
 */
export function parseLooseDate(text: string): Date | undefined {
  const strict = parseRfc3339(text.trim());
  if (strict) return strict;
  const t = text.trim();
  if (/^\d{1,12}$/.test(t)) return new Date(Number(t) * 1000);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
