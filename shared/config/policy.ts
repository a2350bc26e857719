import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import auditActions from '../rules/audit-actions.json';
import { LOGON_TYPES, type LogonType } from '../domain/audit';
import { REMEDIATION_MODES, RULE_IDS, canonicalRuleId, type RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { formatZodIssues } from './zod-format';

/**
 * Actions a policy may name but Exchange Online will not take: MessageBind is refused since 2019
 * ("MessageBind audit operation type is deprecated. Use MailItemsAccessed audit operation type
 * instead.", REFERENCE.md §0), so a policy naming it could never be satisfied.
 */
const REFUSED_ACTIONS: Readonly<Record<string, string>> = {
  messagebind: 'MessageBind is deprecated and Exchange Online refuses it; use MailItemsAccessed, which records reads per message (bind) and per folder (sync)',
};

const actionList = (logonType: LogonType) =>
  z.array(
    z.string().superRefine((action, ctx) => {
      const refused = REFUSED_ACTIONS[action.trim().toLowerCase()];
      if (refused) {
        ctx.addIssue(`"${action}": ${refused}`);
        return;
      }
      if (!auditActions.valid[logonType].some((valid) => valid.toLowerCase() === action.trim().toLowerCase())) {
        ctx.addIssue(`"${action}" is not an audit action Exchange accepts for ${logonType} (valid: ${auditActions.valid[logonType].join(', ')})`);
      }
    }),
  );

/** A unified audit log retention policy the tenant has (Purview), declared because Exchange REST cannot read it. */
const auditRetentionPolicySchema = z
  .object({
    /** The policy's name in Purview, for the finding's text. */
    name: z.string().min(1).optional(),
    days: z.number().int().min(7).max(3650),
    /** UPNs or object ids the policy covers, or "all". */
    users: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]),
  })
  .strict();

const requiredActionsSchema = z
  .object({
    /** Microsoft's default set, or the extended preset (adds Create, Move, MailboxLogin). */
    preset: z.enum(['microsoft-default', 'extended']).default('microsoft-default'),
    /** Extra actions per logon type on top of the preset, e.g. SearchQueryInitiated for Owner. */
    additional: z
      .object({ Owner: actionList('Owner').optional(), Delegate: actionList('Delegate').optional(), Admin: actionList('Admin').optional() })
      .strict()
      .default({}),
  })
  .strict();

/** A rule id of the current pack, or an earlier name of one (read as the current id). */
const ruleIdSchema = z.string().transform((id, ctx): RuleId => {
  const canonical = canonicalRuleId(id);
  if (canonical) return canonical;
  ctx.addIssue(`"${id}" is not a rule id (rules: ${RULE_IDS.join(', ')})`);
  return z.NEVER;
});

const exceptionSchema = z
  .object({
    /** Object id, UPN or identity of the exempt object; "*" for every object. */
    object: z.string().min(1),
    rule: ruleIdSchema,
    reason: z.string().min(1, 'an exception needs a reason'),
    /** ISO date; an expired exception no longer applies. */
    expires: z.iso.datetime({ offset: true }).or(z.iso.date()),
  })
  .strict();

const modesSchema = z.record(z.string(), z.enum(REMEDIATION_MODES)).transform((modes, ctx) => {
  const result: Partial<Record<RuleId, (typeof REMEDIATION_MODES)[number]>> = {};
  for (const [id, mode] of Object.entries(modes)) {
    const canonical = canonicalRuleId(id);
    if (canonical) result[canonical] = mode;
    else ctx.addIssue({ code: 'custom', path: [id], message: `"${id}" is not a rule id (rules: ${RULE_IDS.join(', ')})` });
  }
  return result;
});

export const auditPolicySchema = z
  .object({
    /** The mailbox audit log's AuditLogAgeLimit (Recoverable Items\\Audits): hygiene, not the evidence's retention. */
    minimumAuditLogAgeDays: z.number().int().min(1).max(3650).default(180),
    /**
     * How long the unified audit log (the evidence investigators search) must keep each user's
     * records. 365 by default: breaches are commonly found months after they start, and CISA's
     * baseline (OMB M-21-31) asks for 12 months of logs. Audit (Standard) keeps 180 days.
     */
    minimumUnifiedAuditRetentionDays: z.number().int().min(1).max(3650).default(365),
    /**
     * Audit retention policies the tenant has, in priority order (the first that covers a user wins,
     * as a custom policy outranks the default one). Exchange REST cannot read them, so they are declared.
     */
    auditRetentionPolicies: z.array(auditRetentionPolicySchema).default([]),
    requiredActions: requiredActionsSchema.default({ preset: 'microsoft-default', additional: {} }),
    mailboxTypes: z
      .array(z.enum(['UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox']))
      .min(1)
      .default(['UserMailbox', 'SharedMailbox']),
    /**
     * "all" (default): MailItemsAccessed and Send are required on every in-scope mailbox, as Exchange
     * audits them for Audit (Standard) since 2024. "advanced-auditing": only where the user holds the
     * Audit (Premium) plan (the pre-2024 model); "licensed" is that value's earlier name.
     */
    mailItemsAccessedScope: z
      .enum(['all', 'advanced-auditing', 'licensed'])
      .default('all')
      .transform((scope) => (scope === 'licensed' ? 'advanced-auditing' : scope)),
    /**
     * Mode of the first licence fix, Graph reprocessLicenseAssignment: it changes no plan and takes no
     * seat, so it may run automatically. The direct assignment that follows it is always approved.
     */
    licenceReprocessMode: z.enum(REMEDIATION_MODES).default('auto'),
    /** Fix missing actions by restoring Microsoft's managed set (-DefaultAuditSet) instead of adding them. */
    preferDefaultAuditSet: z.boolean().default(false),
    exceptions: z.array(exceptionSchema).default([]),
    modes: modesSchema.default({}),
    /** At most this many changes per tenant per night before auto turns into approval. */
    blastRadiusLimit: z.number().int().min(0).default(500),
    /** How long drift history is kept. */
    historyRetentionDays: z.number().int().min(1).default(400),
  })
  .strict();

export type AuditPolicy = z.infer<typeof auditPolicySchema>;
export type PolicyException = z.infer<typeof exceptionSchema>;

export const DEFAULT_POLICY: AuditPolicy = auditPolicySchema.parse({});

export function parsePolicy(value: unknown, source: string): AuditPolicy {
  const result = auditPolicySchema.safeParse(value);
  if (!result.success) {
    throw new ValidationError(`The audit policy in ${source} is not valid.`, source, formatZodIssues(result.error));
  }
  return result.data;
}

/** Reads the policy file, or returns the default policy when no path is given. */
export async function loadPolicy(path: string | undefined): Promise<AuditPolicy> {
  if (!path) return DEFAULT_POLICY;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (error as Error).message;
    throw new ValidationError(`Cannot read the audit policy file ${path} (AUDIT_POLICY_PATH): ${reason}.`, 'AUDIT_POLICY_PATH', [], { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`The audit policy file ${path} is not valid JSON: ${(error as Error).message}.`, path, [], { cause: error });
  }
  return parsePolicy(json, `policy file ${path}`);
}

/** Logon types checked by the action rules, in Exchange's order. */
export const POLICY_LOGON_TYPES = LOGON_TYPES;
