/**
 * Where a finding stands. A scan moves it between open, excepted and the two closed statuses;
 * remediation and approval add their own (awaiting-approval, remediating, failed, blocked) while
 * the drift lasts. Every status any layer sets is declared here, so the store and the history
 * read one list.
 */
export const FINDING_STATUSES = [
  'open',
  'awaiting-approval',
  'remediating',
  'failed',
  /** Remediation was refused for a reason that retrying will not change (e.g. Exchange's licence refusal). */
  'blocked',
  'excepted',
  'resolved',
  'gone',
] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** Statuses of a finding whose drift still exists as far as the last scan knows. */
export const ACTIVE_STATUSES: ReadonlySet<FindingStatus> = new Set<FindingStatus>([
  'open',
  'awaiting-approval',
  'remediating',
  'failed',
  'blocked',
  'excepted',
]);

export function isActiveStatus(status: FindingStatus): boolean {
  return ACTIVE_STATUSES.has(status);
}
