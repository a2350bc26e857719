/**
 * TimeSpan values as Exchange Online sends and accepts them.
 *
 * PowerShell shows AuditLogAgeLimit as `90.00:00:00`, but over REST a TimeSpan property has been
 * seen as an ISO-8601 duration (`P90D`, `PT4H`), and AuditLogAgeLimit is an EnhancedTimeSpan whose
 * JSON form is not documented (REFERENCE.md §1.3). So reading accepts every form we can defend;
 * writing always uses the form Set-Mailbox documents.
 */

const SECONDS_PER_DAY = 86_400;
/** TimeSpan.MaxValue is about 10,675,199 days; anything larger is not a TimeSpan. */
const MAX_DAYS = 10_675_199;

// .NET "c" (constant) and "g" (general) formats: [d.]hh:mm:ss[.fffffff] and d:hh:mm:ss[.fffffff].
const DOTNET_CONSTANT = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;
const DOTNET_GENERAL_WITH_DAYS = /^(\d+):(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;
// xsd:dayTimeDuration (OData Edm.Duration) plus weeks. Years and months are refused on purpose:
// their length depends on a calendar, so "P3M" has no single number of days.
const ISO_8601 =
  /^P(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/i;

/**
 * Total seconds of a non-negative TimeSpan in `d.hh:mm:ss`, `hh:mm:ss`, `d:hh:mm:ss` (each with
 * optional fractional seconds) or ISO-8601 (`P90D`, `P90DT0H`, `PT2160H`, `P2W`) form.
 * Returns undefined for anything else, including negative durations and years/months.
 */
export function parseTimeSpanSeconds(text: string): number | undefined {
  const value = text.trim();
  const dotnet = DOTNET_CONSTANT.exec(value) ?? DOTNET_GENERAL_WITH_DAYS.exec(value);
  if (dotnet) {
    const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = dotnet;
    if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
    return checked(
      Number(days) * SECONDS_PER_DAY +
        Number(hours) * 3600 +
        Number(minutes) * 60 +
        Number(seconds) +
        (fraction ? Number(`0.${fraction}`) : 0),
    );
  }
  const iso = ISO_8601.exec(value);
  // "P" and "PT" alone match the pattern but say nothing; a "T" must be followed by a component.
  if (iso && value.length > 1 && !/T$/i.test(value)) {
    const [weeks, days, hours, minutes, seconds] = iso.slice(1).map((part) => (part ? Number(part.replace(',', '.')) : 0));
    return checked(
      (weeks ?? 0) * 7 * SECONDS_PER_DAY +
        (days ?? 0) * SECONDS_PER_DAY +
        (hours ?? 0) * 3600 +
        (minutes ?? 0) * 60 +
        (seconds ?? 0),
    );
  }
  return undefined;
}

/**
 * Whole days in a TimeSpan, rounded down: 179.5 days of retention does not meet a 180-day
 * policy, and Set-Mailbox writes whole days anyway. Undefined when the text is not a TimeSpan.
 */
export function timeSpanToWholeDays(text: string): number | undefined {
  const seconds = parseTimeSpanSeconds(text);
  if (seconds === undefined) return undefined;
  // The epsilon absorbs float error from fractional ISO components such as "P0.1D" * 10.
  return Math.floor(seconds / SECONDS_PER_DAY + 1e-9);
}

/** A whole number of days in the `d.hh:mm:ss` form Set-Mailbox documents, e.g. 180 → "180.00:00:00". */
export function formatTimeSpanDays(days: number): string {
  if (!Number.isInteger(days) || days < 0 || days > MAX_DAYS) {
    throw new RangeError(`A TimeSpan in days must be a whole number from 0 to ${MAX_DAYS}; got ${days}`);
  }
  return `${days}.00:00:00`;
}

function checked(seconds: number): number | undefined {
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_DAYS * SECONDS_PER_DAY ? seconds : undefined;
}
