import { LOGON_TYPES } from '../domain/audit';
import type { LogonTypeCoverage, MailboxCoverage } from '../rules/coverage';
import { ValidationError } from '../errors';
import type { ConfigurationView, DriftEventView, FindingView, ScanView } from './history';
import { csvHeader, csvRecord, csvRow, shortTime, textTable, type Column } from './tabular';
import { textOf } from '../text';

/**
 * How the drift-history rows are printed: JSON for programs, CSV for auditors' spreadsheets, an
 * aligned table for people. JSON and CSV stream (a 100,000-row export never sits in memory); the
 * text table needs its widths, so it buffers (people do not read 100,000 rows in a terminal).
 */
export type OutputFormat = 'text' | 'json' | 'csv';

/** --json / --csv / neither, refusing both. */
export function outputFormat(values: { json?: boolean; csv?: boolean }): OutputFormat {
  if (values.json && values.csv) throw new ValidationError('Choose one of --json and --csv.', 'command line');
  return values.json ? 'json' : values.csv ? 'csv' : 'text';
}

interface Sink {
  write(text: string): unknown;
}

export async function writeRows<T>(out: Sink, format: OutputFormat, columns: Column<T>[], rows: AsyncIterable<T>, empty = 'Nothing found.\n'): Promise<number> {
  let count = 0;
  if (format === 'json') {
    out.write('[');
    for await (const row of rows) out.write(`${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
    out.write(count === 0 ? ']\n' : '\n]\n');
    return count;
  }
  if (format === 'csv') {
    out.write(csvHeader(columns));
    for await (const row of rows) {
      out.write(csvRow(columns, row));
      count++;
    }
    return count;
  }
  const buffered: T[] = [];
  for await (const row of rows) buffered.push(row);
  out.write(buffered.length === 0 ? empty : textTable(columns, buffered));
  return buffered.length;
}

export const FINDING_COLUMNS: Column<FindingView>[] = [
  { header: 'severity', value: (f) => f.severity },
  { header: 'rule', value: (f) => f.ruleId },
  { header: 'logonType', value: (f) => f.logonType },
  { header: 'status', value: (f) => f.status },
  { header: 'userPrincipalName', value: (f) => f.userPrincipalName },
  { header: 'objectId', value: (f) => f.objectId },
  { header: 'firstSeen', value: (f) => f.firstSeen },
  { header: 'lastSeen', value: (f) => f.lastSeen },
  { header: 'expected', value: (f) => f.expected },
  { header: 'actual', value: (f) => f.actual },
  { header: 'exceptionReason', value: (f) => f.exception?.reason },
  { header: 'exceptionExpires', value: (f) => f.exception?.expires },
];

/** The terminal table leaves out what does not fit a line. */
export const FINDING_TEXT_COLUMNS: Column<FindingView>[] = [
  { header: 'SEVERITY', value: (f) => f.severity },
  { header: 'RULE', value: (f) => f.ruleId },
  { header: 'LOGON', value: (f) => f.logonType ?? '' },
  { header: 'STATUS', value: (f) => f.status },
  { header: 'MAILBOX', value: (f) => f.userPrincipalName },
  { header: 'FIRST SEEN', value: (f) => shortTime(f.firstSeen) },
  { header: 'LAST SEEN', value: (f) => shortTime(f.lastSeen) },
];

export const EVENT_COLUMNS: Column<DriftEventView>[] = [
  { header: 'at', value: (e) => e.at },
  { header: 'type', value: (e) => e.type },
  { header: 'rule', value: (e) => e.ruleId },
  { header: 'logonType', value: (e) => e.logonType },
  { header: 'severity', value: (e) => e.severity },
  { header: 'userPrincipalName', value: (e) => e.userPrincipalName },
  { header: 'objectId', value: (e) => e.objectId },
  { header: 'actor', value: (e) => e.actor },
  { header: 'reason', value: (e) => e.reason },
  { header: 'details', value: (e) => e.details },
  { header: 'eventId', value: (e) => e.eventId },
];

export const EVENT_TEXT_COLUMNS: Column<DriftEventView>[] = [
  { header: 'AT', value: (e) => shortTime(e.at) },
  { header: 'EVENT', value: (e) => e.type },
  { header: 'RULE', value: (e) => e.ruleId },
  { header: 'LOGON', value: (e) => e.logonType ?? '' },
  { header: 'MAILBOX', value: (e) => e.userPrincipalName },
  { header: 'BY', value: (e) => e.actor },
  { header: 'REASON', value: (e) => e.reason ?? '' },
];

const totalFindings = (s: ScanView) => Object.values(s.findingsByRule).reduce((sum, count) => sum + (count ?? 0), 0);

export const SCAN_COLUMNS: Column<ScanView>[] = [
  { header: 'startedAt', value: (s) => s.startedAt },
  { header: 'status', value: (s) => s.status },
  { header: 'durationMs', value: (s) => s.durationMs },
  { header: 'mailboxes', value: (s) => s.mailboxes },
  { header: 'bypassAssociations', value: (s) => s.bypassAssociations },
  { header: 'findings', value: (s) => (s.status === 'completed' ? totalFindings(s) : undefined) },
  { header: 'opened', value: (s) => s.opened },
  { header: 'resolved', value: (s) => s.resolved },
  { header: 'gone', value: (s) => s.gone },
  { header: 'stillOpen', value: (s) => s.stillOpen },
  { header: 'ruleErrors', value: (s) => s.ruleErrors },
  { header: 'apiCalls', value: (s) => s.apiCalls },
  { header: 'throttledCalls', value: (s) => s.throttledCalls },
  { header: 'findingsByRule', value: (s) => s.findingsByRule },
  { header: 'reason', value: (s) => s.reason },
  { header: 'scanId', value: (s) => s.scanId },
];

export const SCAN_TEXT_COLUMNS: Column<ScanView>[] = [
  { header: 'STARTED', value: (s) => shortTime(s.startedAt) },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'DURATION', value: (s) => (s.durationMs !== undefined ? `${Math.round(s.durationMs / 1000)}s` : '') },
  { header: 'MAILBOXES', value: (s) => s.mailboxes ?? '' },
  { header: 'FINDINGS', value: (s) => (s.status === 'completed' ? totalFindings(s) : '') },
  { header: 'OPENED', value: (s) => s.opened ?? '' },
  { header: 'RESOLVED', value: (s) => s.resolved ?? '' },
  { header: 'GONE', value: (s) => s.gone ?? '' },
  { header: 'API CALLS', value: (s) => s.apiCalls ?? '' },
  { header: 'THROTTLED', value: (s) => s.throttledCalls ?? '' },
  { header: 'ERRORS', value: (s) => s.ruleErrors ?? '' },
];

/** A configuration as property/value pairs: nested objects flattened with dots, lists joined with `;`. */
export function configurationPairs(view: ConfigurationView): Array<[string, string]> {
  // The verdict first: "was this mailbox's reading recorded then?" is the question --at answers.
  const pairs: Array<[string, string]> = [
    ['coverage', view.coverage ? describeVerdict(view.coverage) : 'unknown (recorded before coverage verdicts existed)'],
    ...(view.coverage
      ? LOGON_TYPES.map((type): [string, string] => [`coverage.${type}`, describeLogonType(view.coverage!.byLogonType[type])])
      : []),
    ['objectId', view.objectId],
    ['userPrincipalName', view.userPrincipalName],
    ['inForceSince', view.inForceSince],
  ];
  const walk = (prefix: string, value: unknown) => {
    if (Array.isArray(value)) pairs.push([prefix, value.map(textOf).join(';')]);
    else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, inner);
    else pairs.push([prefix, textOf(value)]);
  };
  walk('', view.configuration);
  return pairs;
}

const VERDICT_TEXT = { recorded: 'reads recorded', 'at-risk': 'reads recorded, at risk', 'not-recorded': 'reads NOT recorded' } as const;

function describeVerdict(coverage: MailboxCoverage): string {
  return VERDICT_TEXT[coverage.verdict];
}

function describeLogonType(entry: LogonTypeCoverage): string {
  return entry.reasons.length > 0 ? `${VERDICT_TEXT[entry.state]} (${entry.reasons.join(', ')})` : VERDICT_TEXT[entry.state];
}

export function writeConfiguration(out: Sink, format: OutputFormat, view: ConfigurationView | null, document: Record<string, unknown>): void {
  if (format === 'json') {
    out.write(`${JSON.stringify({ ...document, configuration: view }, null, 2)}\n`);
    return;
  }
  if (!view) return;
  const pairs = configurationPairs(view);
  if (format === 'csv') {
    out.write(csvRecord(['property', 'value']));
    for (const pair of pairs) out.write(csvRecord(pair));
    return;
  }
  out.write(textTable<[string, string]>([{ header: 'PROPERTY', value: (p) => p[0] }, { header: 'VALUE', value: (p) => p[1] }], pairs));
}
