import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import type { RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { compareApprovalPriority, countSchema, ruleIdSchema, textSchema, urlSchema } from './card-parts';

/**
 * What the nightly digest card is built from, and its validation: lists are cut to DIGEST_LIMITS
 * and only the fields a card shows are copied, so 100,000 findings cost a slice, not a deep copy.
 */
/** How much of each list the digest shows before it summarises. */
export const DIGEST_LIMITS = {
  /** Approval requests with their own Approve / Reject buttons; more is a wall to scroll. */
  approvals: 10,
  /** Examples under "new", "resolved", "fixed automatically". */
  examples: 5,
} as const;

/** One finding as the digest mentions it; a Finding from ScanChanges fits this shape. */
export interface DigestChange {
  ruleId: RuleId;
  userPrincipalName: string;
  logonType?: string;
}

/** A count with a few examples, for callers that do not hold the whole list in memory. */
export interface DigestChangeList {
  count: number;
  byRule?: Partial<Record<RuleId, number>>;
  examples: readonly DigestChange[];
}

export interface DigestRemediation {
  ruleId: RuleId;
  objectUpn: string;
  /** The cmdlet call that ran. */
  change: string;
}

export interface DigestApproval {
  requestId: string;
  ruleId: RuleId;
  objectUpn: string;
  /** The exact cmdlet call approval would queue. */
  change: string;
  /** Signed links (signApprovalLinks); the builder only places them, so it stays pure. */
  approveUrl: string;
  rejectUrl: string;
  expiresAt?: Date;
}

export interface DigestInput {
  tenantId: string;
  /** e.g. contoso.onmicrosoft.com; the tenant id is shown when absent. */
  tenantName?: string;
  scanId: string;
  scannedAt: Date;
  /** Open findings per rule after this scan. */
  countsByRule: Partial<Record<RuleId, number>>;
  /** Findings first seen in this scan (ScanChanges.opened, or a count with examples). */
  opened: readonly DigestChange[] | DigestChangeList;
  /** Findings that were open before and are gone now (ScanChanges.resolved). */
  resolved: readonly DigestChange[] | DigestChangeList;
  autoFixed: { count: number; examples: readonly DigestRemediation[] };
  autoFixFailed?: { count: number; examples: readonly DigestRemediation[] };
  /** Requests waiting for a decision, most important first (the builder also sorts by severity). */
  approvals: readonly DigestApproval[];
  /** When `approvals` is only the first part of the list: how many there are in all. */
  approvalsTotal?: number;
  /** Rules that threw on some object (reported, never a crash). */
  ruleErrors?: number;
  /**
   * The tenant's coverage figure, which the card leads with: the headline (share of mailboxes whose
   * reads are recorded, per logon type, change since the last scan) and the counts by verdict.
   */
  coverage?: { headline: string; counts: string; allRecorded: boolean };
  /** Where "and N more" points: the dashboard or a drift query. */
  dashboardUrl?: string;
}

const changeSchema = z.object({ ruleId: ruleIdSchema, userPrincipalName: textSchema, logonType: textSchema.optional() });
const changeListSchema = z.object({
  count: countSchema,
  byRule: z.partialRecord(ruleIdSchema, countSchema).optional(),
  examples: z.array(changeSchema),
});
const remediationSchema = z.object({ ruleId: ruleIdSchema, objectUpn: textSchema, change: textSchema });
const remediationListSchema = z.object({ count: countSchema, examples: z.array(remediationSchema) });
const approvalSchema = z.object({
  requestId: z.string().min(1).max(200),
  ruleId: ruleIdSchema,
  objectUpn: textSchema,
  change: textSchema,
  approveUrl: urlSchema,
  rejectUrl: urlSchema,
  expiresAt: z.date().optional(),
});
const digestSchema = z.object({
  tenantId: z.string().min(1).max(200),
  tenantName: z.string().max(200).optional(),
  scanId: z.string().min(1).max(200),
  scannedAt: z.date(),
  countsByRule: z.partialRecord(ruleIdSchema, countSchema),
  opened: changeListSchema,
  resolved: changeListSchema,
  autoFixed: remediationListSchema,
  autoFixFailed: remediationListSchema.optional(),
  approvals: z.array(approvalSchema),
  approvalsTotal: countSchema,
  ruleErrors: countSchema.optional(),
  coverage: z.object({ headline: z.string().max(400), counts: z.string().max(200), allRecorded: z.boolean() }).optional(),
  dashboardUrl: urlSchema.optional(),
});
/** The digest as validated: only what can appear on the card. */
export type Digest = z.infer<typeof digestSchema>;

export function parseDigest(input: DigestInput): Digest {
  // Only what can appear on the card is validated and copied, so 100,000 findings cost a slice,
  // not a deep copy.
  const approvals = [...input.approvals]
    .map((approval, index) => ({ approval, index }))
    .sort((a, b) => compareApprovalPriority(a.approval.ruleId, b.approval.ruleId) || a.index - b.index)
    .slice(0, DIGEST_LIMITS.approvals)
    .map(({ approval }) => approval);
  const parsed = digestSchema.safeParse({
    ...input,
    opened: changeList(input.opened),
    resolved: changeList(input.resolved),
    autoFixed: remediationList(input.autoFixed),
    autoFixFailed: input.autoFixFailed ? remediationList(input.autoFixFailed) : undefined,
    approvals,
    approvalsTotal: Math.max(input.approvalsTotal ?? 0, input.approvals.length),
  });
  if (!parsed.success) throw new ValidationError('The digest card input is not valid.', 'digest card', formatZodIssues(parsed.error));
  return parsed.data;
}

function changeList(value: readonly DigestChange[] | DigestChangeList): DigestChangeList {
  if (isChangeArray(value)) {
    const byRule: Partial<Record<RuleId, number>> = {};
    for (const change of value) byRule[change.ruleId] = (byRule[change.ruleId] ?? 0) + 1;
    return { count: value.length, byRule, examples: value.slice(0, DIGEST_LIMITS.examples).map(pickChange) };
  }
  return {
    count: Math.max(value.count, value.examples.length),
    ...(value.byRule ? { byRule: value.byRule } : {}),
    examples: value.examples.slice(0, DIGEST_LIMITS.examples).map(pickChange),
  };
}

function isChangeArray(value: readonly DigestChange[] | DigestChangeList): value is readonly DigestChange[] {
  return Array.isArray(value);
}

/** A Finding carries more than the card needs; copy only the three fields the card shows. */
function pickChange(change: DigestChange): DigestChange {
  return {
    ruleId: change.ruleId,
    userPrincipalName: change.userPrincipalName,
    ...(change.logonType !== undefined ? { logonType: change.logonType } : {}),
  };
}

function remediationList(value: { count: number; examples: readonly DigestRemediation[] }): {
  count: number;
  examples: DigestRemediation[];
} {
  return { count: Math.max(value.count, value.examples.length), examples: value.examples.slice(0, DIGEST_LIMITS.examples) };
}
