import { LOGON_TYPES, type LogonType } from '../domain/audit';
import type { Finding, RuleId } from '../domain/finding';
import { RULE_METADATA } from './pack';

/**
 * The coverage verdict: are this mailbox's reads recorded? Per logon type, because MailItemsAccessed
 * is configured per logon type and an intruder reads as one of them (a stolen password is Owner, a
 * granted permission Delegate, an app or admin Admin).
 *
 * - `not-recorded`: a condition for MailItemsAccessed fails (org auditing off, ingestion off, the
 *   action missing for that logon type, Exchange not applying the licence, the mailbox's own account
 *   bypassing auditing for Owner, a room or equipment mailbox with AuditEnabled False) or could not
 *   be checked (a rule error, e.g. Get-AdminAuditLogConfig refused): reads are then not proven
 *   recorded, and the headline must not count them as recorded.
 * - `at-risk`: reads are recorded today, but something weakens the evidence (records kept too
 *   briefly, lists frozen outside Microsoft's management, other actions missing), or a hygiene rule
 *   could not be checked.
 * - `recorded`: every condition holds.
 *
 * Configuration is a promise; the evidence probe checks the records themselves.
 */
export const COVERAGE_STATES = ['recorded', 'at-risk', 'not-recorded'] as const;
export type CoverageState = (typeof COVERAGE_STATES)[number];

export interface LogonTypeCoverage {
  state: CoverageState;
  /** Rule ids behind the state, sorted; empty when recorded. */
  reasons: RuleId[];
}

export interface MailboxCoverage {
  /** The worst of the three logon types. */
  verdict: CoverageState;
  byLogonType: Record<LogonType, LogonTypeCoverage>;
}

export interface CoverageInput {
  /** The mailbox's findings, excepted ones included: an exception does not make reads recorded. */
  mailboxFindings: readonly Finding[];
  /** The organization's findings (org auditing, ingestion), errors included. */
  organizationFindings: readonly Finding[];
  /** The mailbox's own account has an enabled bypass association: its Owner reads go unrecorded. */
  ownAccountBypassed: boolean;
}

const RANK: Record<CoverageState, number> = { recorded: 0, 'at-risk': 1, 'not-recorded': 2 };

export function worstOf(a: CoverageState, b: CoverageState): CoverageState {
  return RANK[a] >= RANK[b] ? a : b;
}

export function mailboxCoverage(input: CoverageInput): MailboxCoverage {
  const states = new Map<LogonType, { state: CoverageState; reasons: Set<RuleId> }>();
  for (const type of LOGON_TYPES) states.set(type, { state: 'recorded', reasons: new Set() });
  const mark = (types: readonly LogonType[], state: CoverageState, reason: RuleId): void => {
    for (const type of types) {
      const entry = states.get(type) as { state: CoverageState; reasons: Set<RuleId> };
      // Reasons at a lesser state than the final one still help a reader: keep them all.
      entry.state = worstOf(entry.state, state);
      entry.reasons.add(reason);
    }
  };

  for (const finding of [...input.organizationFindings, ...input.mailboxFindings]) {
    const state = stateOf(finding);
    if (state === undefined) continue;
    mark(finding.logonType ? [finding.logonType] : LOGON_TYPES, state, finding.ruleId);
  }
  if (input.ownAccountBypassed) mark(['Owner'], 'not-recorded', 'audit-bypass-enabled');

  let verdict: CoverageState = 'recorded';
  const byLogonType = {} as Record<LogonType, LogonTypeCoverage>;
  for (const type of LOGON_TYPES) {
    const entry = states.get(type) as { state: CoverageState; reasons: Set<RuleId> };
    byLogonType[type] = { state: entry.state, reasons: [...entry.reasons].sort() };
    verdict = worstOf(verdict, entry.state);
  }
  return { verdict, byLogonType };
}

/** How one finding bears on coverage (undefined: not at all). */
function stateOf(finding: Finding): CoverageState | undefined {
  const effect = RULE_METADATA[finding.ruleId].coverage;
  if (effect === 'none') return undefined;
  // A condition we could not check is not a condition that holds.
  if (effect === 'reads') return 'not-recorded';
  if (finding.error) return 'at-risk';
  // AuditEnabled False on a mailbox outside on-by-default (rooms, equipment) means nothing is recorded;
  // the rule marks exactly that case high.
  if (finding.ruleId === 'mailbox-audit-disabled' && finding.severity === 'high') return 'not-recorded';
  return 'at-risk';
}

/** The tenant's figure: how many in-scope mailboxes are in each state, overall and per logon type. */
export interface CoverageTally {
  mailboxes: number;
  overall: Record<CoverageState, number>;
  byLogonType: Record<LogonType, Record<CoverageState, number>>;
}

export function emptyCoverageTally(): CoverageTally {
  const counts = (): Record<CoverageState, number> => ({ recorded: 0, 'at-risk': 0, 'not-recorded': 0 });
  return { mailboxes: 0, overall: counts(), byLogonType: { Owner: counts(), Delegate: counts(), Admin: counts() } };
}

export function addToTally(tally: CoverageTally, coverage: MailboxCoverage): void {
  tally.mailboxes += 1;
  tally.overall[coverage.verdict] += 1;
  for (const type of LOGON_TYPES) tally.byLogonType[type][coverage.byLogonType[type].state] += 1;
}

/**
 * The share of mailboxes whose reads are recorded (at risk counts: the records exist today), as a
 * fraction from 0 to 1; null when no mailbox is in scope.
 */
export function recordedShare(counts: Record<CoverageState, number>): number | null {
  const total = counts.recorded + counts['at-risk'] + counts['not-recorded'];
  return total === 0 ? null : (counts.recorded + counts['at-risk']) / total;
}

/** "97.3 %" (one decimal, never rounded up to 100 while a mailbox is not recorded). */
export function formatShare(share: number | null): string {
  if (share === null) return 'n/a';
  const tenths = Math.floor(share * 1000) / 10;
  return `${tenths.toFixed(1)} %`;
}

/** The tenant's figure as people read it: shares overall and per logon type, and the change since the last scan. */
export interface CoverageFigure {
  mailboxes: number;
  /** Share of in-scope mailboxes whose reads are recorded for all three logon types (0–1), null with none in scope. */
  share: number | null;
  byLogonType: Record<LogonType, number | null>;
  counts: Record<CoverageState, number>;
  /** Percentage points since the previous scan's figure; absent without one. */
  changePoints?: number;
}

export function coverageFigure(tally: CoverageTally, previous?: CoverageTally): CoverageFigure {
  const share = recordedShare(tally.overall);
  const figure: CoverageFigure = {
    mailboxes: tally.mailboxes,
    share,
    byLogonType: {
      Owner: recordedShare(tally.byLogonType.Owner),
      Delegate: recordedShare(tally.byLogonType.Delegate),
      Admin: recordedShare(tally.byLogonType.Admin),
    },
    counts: { ...tally.overall },
  };
  const before = previous ? recordedShare(previous.overall) : null;
  if (share !== null && before !== null) figure.changePoints = Math.round((share - before) * 1000) / 10;
  return figure;
}

/**
 * "Reads recorded for 96.2 % of 2,812 in-scope mailboxes (Owner 97.0 %, Delegate 96.5 %, Admin 96.4 %),
 * +0.4 points since the last scan": the headline the CLI, the digest and the dashboard lead with.
 */
export function formatCoverageHeadline(figure: CoverageFigure): string {
  if (figure.share === null) return 'No mailbox in scope: no coverage figure.';
  const perType = LOGON_TYPES.map((type) => `${type} ${formatShare(figure.byLogonType[type])}`).join(', ');
  const change =
    figure.changePoints === undefined
      ? ''
      : figure.changePoints === 0
        ? ', unchanged since the last scan'
        : `, ${figure.changePoints > 0 ? '+' : '−'}${Math.abs(figure.changePoints).toFixed(1)} points since the last scan`;
  return `Reads recorded for ${formatShare(figure.share)} of ${figure.mailboxes.toLocaleString('en-US')} in-scope mailboxes (${perType})${change}`;
}

/** "1,200 recorded · 1,500 at risk · 112 not recorded". */
export function formatCoverageCounts(counts: Record<CoverageState, number>): string {
  const n = (value: number) => value.toLocaleString('en-US');
  return `${n(counts.recorded)} recorded · ${n(counts['at-risk'])} at risk · ${n(counts['not-recorded'])} not recorded`;
}
