import { z } from 'zod';
import { canonicalRuleId, RULE_IDS, SEVERITIES, type RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { DRIFT_EVENT_TYPES, FINDING_STATUSES } from '../store/model';

/**
 * The parameters of the drift-history queries, as both front ends receive them: strings (an HTTP
 * query string, command-line flags). One schema per query, so the HTTP API and the CLI accept and
 * refuse exactly the same values and name the same parameter when they refuse.
 */
export class QueryParameterError extends ValidationError {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    // The message already names the parameter; no separate issue list to print twice.
    super(message, 'query parameter');
  }
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A date alone means the whole UTC day: `from` its first millisecond, `to` / `at` its last, so
 * "--at 2026-03-03" includes a change made that afternoon and "--to 2026-03-03" includes that day.
 */
function dateParameter(bound: 'start' | 'end') {
  return z.string().transform((value, ctx) => {
    const text = value.trim();
    const dateOnly = DATE_ONLY.exec(text);
    let date: Date | undefined;
    if (dateOnly) {
      const [, year, month, day] = dateOnly;
      const start = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
      if (start.getUTCDate() === Number(day) && start.getUTCMonth() === Number(month) - 1) {
        date = bound === 'start' ? start : new Date(start.getTime() + 86_400_000 - 1);
      }
    } else if (DATE_TIME.test(text)) {
      const parsed = new Date(text);
      if (!Number.isNaN(parsed.getTime())) date = parsed;
    }
    if (!date || date.getUTCFullYear() < 2000 || date.getUTCFullYear() > 2999) {
      ctx.addIssue({ code: 'custom', message: 'must be a date (2026-03-01) or a date and time with offset (2026-03-01T12:00:00Z)' });
      return z.NEVER;
    }
    return date;
  });
}

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `must be one of ${values.join(', ')}` });

/** A rule id; an earlier id of a rule (e.g. retention-too-short) reads as its current one. */
const ruleId = z.string().transform((value, ctx): RuleId => {
  const current = canonicalRuleId(value);
  if (current) return current;
  ctx.addIssue({ code: 'custom', message: `must be one of ${RULE_IDS.join(', ')}` });
  return z.NEVER;
});

const pageSize = z
  .string()
  .regex(/^\d{1,4}$/, 'must be a whole number from 1 to 1000')
  .transform(Number)
  .refine((value) => value >= 1 && value <= 1000, 'must be a whole number from 1 to 1000')
  .optional()
  .transform((value) => value ?? 100);

const continuationToken = z.string().min(1, 'must not be empty').max(4096, 'is too long to be a continuation token').optional();

/** A mailbox: object id or UPN. Free text, so length-limited; it only ever reaches storage encoded or through odata. */
const mailbox = z.string().trim().min(1, 'must name a mailbox (object id or UPN)').max(320, 'is longer than any UPN');

export const FINDING_STATUS_FILTERS = [...FINDING_STATUSES, 'active', 'all'] as const;

export const findingsQuerySchema = z.strictObject({
  rule: ruleId.optional(),
  severity: oneOf(SEVERITIES).optional(),
  status: oneOf(FINDING_STATUS_FILTERS).optional(),
  mailbox: mailbox.optional(),
  pageSize,
  continuationToken,
});
export type FindingsQuery = z.output<typeof findingsQuerySchema>;

/** Checks between parameters; `{name}` in a message is replaced by the parameter's spelling. */
function windowInOrder(value: { from?: Date; to?: Date }, ctx: z.RefinementCtx) {
  if (value.from && value.to && value.from.getTime() > value.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after {to}' });
  }
}

export const historyQuerySchema = z
  .strictObject({
    mailbox,
    from: dateParameter('start').optional(),
    to: dateParameter('end').optional(),
    at: dateParameter('end').optional(),
    pageSize,
    continuationToken,
  })
  .superRefine(windowInOrder);
export type HistoryQuery = z.output<typeof historyQuerySchema>;

export const eventsQuerySchema = z
  .strictObject({
    from: dateParameter('start').optional(),
    to: dateParameter('end').optional(),
    rule: ruleId.optional(),
    type: oneOf(DRIFT_EVENT_TYPES).optional(),
    pageSize,
    continuationToken,
  })
  .superRefine(windowInOrder);
export type EventsQuery = z.output<typeof eventsQuerySchema>;

export const scansQuerySchema = z.strictObject({ pageSize, continuationToken });
export type ScansQuery = z.output<typeof scansQuerySchema>;

/** The command line spells query parameters as flags. */
export function flagName(parameter: string): string {
  return `--${parameter}`;
}

/**
 * Parses raw string parameters. The first problem becomes a QueryParameterError naming the
 * parameter as the caller spells it (`rule` for HTTP, `--rule` for the CLI).
 */
export function parseQueryParameters<S extends z.ZodType>(
  schema: S,
  raw: Record<string, string | undefined>,
  nameOf: (parameter: string) => string = (parameter) => parameter,
): z.output<S> {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined));
  const result = schema.safeParse(defined);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = String(issue.keys[0]);
    throw new QueryParameterError(nameOf(key), `${nameOf(key)} is not a parameter of this query`);
  }
  const parameter = String(issue.path[0] ?? 'query');
  const message = (issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message).replace(/\{(\w+)\}/g, (_, name: string) => nameOf(name));
  throw new QueryParameterError(nameOf(parameter), `${nameOf(parameter)} ${message}`);
}
