import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import auditActions from '../rules/audit-actions.json';
import { LOGON_TYPES, type LogonType } from '../domain/audit';
import { REMEDIATION_MODES, RULE_IDS, type RemediationMode, type RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { formatZodIssues } from './zod-format';

const actionList = (logonType: LogonType) =>
  z.array(
    z.string().refine(
      (action) => auditActions.valid[logonType].some((valid) => valid.toLowerCase() === action.toLowerCase()),
      {
        error: (issue) =>
          `"${String(issue.input)}" is not an audit action Exchange accepts for ${logonType} (valid: ${auditActions.valid[logonType].join(', ')})`,
      },
    ),
  );

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

const exceptionSchema = z
  .object({
    /** Object id, UPN or identity of the exempt object; "*" for every object. */
    object: z.string().min(1),
    rule: z.enum(RULE_IDS),
    reason: z.string().min(1, 'an exception needs a reason'),
    /** ISO date; an expired exception no longer applies. */
    expires: z.iso.datetime({ offset: true }).or(z.iso.date()),
  })
  .strict();

const modesSchema = z.partialRecord(z.enum(RULE_IDS), z.enum(REMEDIATION_MODES));

export const auditPolicySchema = z
  .object({
    minimumAuditLogAgeDays: z.number().int().min(1).max(3650).default(180),
    requiredActions: requiredActionsSchema.default({ preset: 'microsoft-default', additional: {} }),
    mailboxTypes: z
      .array(z.enum(['UserMailbox', 'SharedMailbox', 'RoomMailbox', 'EquipmentMailbox']))
      .min(1)
      .default(['UserMailbox', 'SharedMailbox']),
    /**
     * "licensed": MailItemsAccessed (and the other premium actions) are required only where the user holds
     * the Advanced Auditing plan; "all": everywhere (tenants where Microsoft extended them to Audit Standard).
     */
    mailItemsAccessedScope: z.enum(['licensed', 'all']).default('licensed'),
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

/** Default remediation mode per rule (DESIGN.md's table); the policy's `modes` override it. */
export const DEFAULT_MODES: Record<RuleId, RemediationMode> = {
  'org-audit-disabled': 'approval',
  'mailbox-audit-disabled': 'auto',
  'mailitemsaccessed-missing': 'auto',
  'audit-actions-missing': 'auto',
  'retention-too-short': 'auto',
  'audit-bypass-enabled': 'approval',
  'default-audit-set-customised': 'report',
  'advanced-auditing-plan-missing': 'report',
  'licence-inherited-blocks-mia': 'approval',
};

export function modeFor(policy: AuditPolicy, ruleId: RuleId): RemediationMode {
  return policy.modes[ruleId] ?? DEFAULT_MODES[ruleId];
}

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
