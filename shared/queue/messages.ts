import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import { ADVANCED_AUDITING_PLAN_ID, LOGON_TYPES } from '../domain/audit';
import { findingKey, RULE_IDS, type ObjectType } from '../domain/finding';
import { ValidationError } from '../errors';
import { CHANGE_KINDS_BY_RULE, describeChange, idempotencyKeyOf, type RemediationPlan } from '../remediation/plan';

const OBJECT_TYPES = ['organization', 'mailbox', 'bypass-association'] as const satisfies readonly ObjectType[];

/**
 * The messages on the remediation queues. A message is `unknown` until `parseQueueMessage` accepts
 * it: the shape, the version, and that the plan is internally consistent (its idempotency key is the
 * hash of its own finding and change, and the change kind is one that fixes its rule). The change
 * schemas admit only the values that turn auditing *on* (AuditEnabled true, bypass false, a
 * retention of at least a day, @{Add=…} and never a replacement list, ingestion true), and a direct
 * licence only with every plan its user's group disables kept disabled, so a forged or corrupted
 * message cannot be used to switch auditing off or to switch other services on.
 */
export const MESSAGE_VERSION = 1;

const actionName = z.string().regex(/^[A-Za-z]{2,64}$/, 'an audit action name is letters only');
const logonType = z.enum(LOGON_TYPES);
const identity = z.string().trim().min(1).max(256);
const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a lower-case GUID');
const AUDIT_PLAN = ADVANCED_AUDITING_PLAN_ID.toLowerCase();

const setMailboxSchema = z.strictObject({
  kind: z.literal('set-mailbox'),
  identity,
  auditEnabled: z.literal(true).optional(),
  // Never 0: 00:00:00 makes Exchange purge every audit record at the next Managed Folder Assistant run.
  auditLogAgeLimitDays: z.number().int().min(1).max(3650).optional(),
  addActions: z.partialRecord(logonType, z.array(actionName).min(1).max(32)).optional(),
  defaultAuditSet: z.array(logonType).min(1).max(3).optional(),
});

/**
 * A direct assignment unions with the group's (REFERENCE.md §0): any plan the group disables that
 * the body does not disable would be switched on. So the body must disable exactly what the group
 * does, except Advanced Auditing, which it must not disable (that is the point of the change).
 */
const assignLicenceSchema = z
  .strictObject({
    kind: z.literal('assign-licence'),
    userId: identity,
    skuId: guid,
    skuPartNumber: z.string().regex(/^[A-Za-z0-9_.+-]{0,100}$/, 'a SKU part number such as SPE_E5'),
    groupDisabledPlans: z.array(guid).max(200),
    disabledPlans: z.array(guid).max(200),
    planNames: z.record(guid, z.string().regex(/^[A-Za-z0-9_. ()+-]{1,120}$/, 'a service plan name')),
  })
  .superRefine((change, ctx) => {
    const body = new Set(change.disabledPlans);
    if (body.has(AUDIT_PLAN)) {
      ctx.addIssue({ code: 'custom', path: ['disabledPlans'], message: 'disables Advanced Auditing, the plan the change exists to deliver' });
    }
    const enabled = change.groupDisabledPlans.filter((plan) => plan !== AUDIT_PLAN && !body.has(plan));
    if (enabled.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['disabledPlans'], message: `would switch on ${enabled.join(', ')}, which the user's group leaves disabled` });
    }
    const extra = change.disabledPlans.filter((plan) => !change.groupDisabledPlans.includes(plan));
    if (extra.length > 0) {
      // Harmless to the tenant (the group's assignment still enables them) but not what was planned.
      ctx.addIssue({ code: 'custom', path: ['disabledPlans'], message: `disables ${extra.join(', ')}, which the group does not: not the planned body` });
    }
    const unnamed = Object.keys(change.planNames).filter((plan) => !change.groupDisabledPlans.includes(plan));
    if (unnamed.length > 0) ctx.addIssue({ code: 'custom', path: ['planNames'], message: `names plans the change does not mention: ${unnamed.join(', ')}` });
  });

export const remediationChangeSchema = z.discriminatedUnion('kind', [
  setMailboxSchema,
  z.strictObject({ kind: z.literal('set-bypass-association'), identity, auditBypassEnabled: z.literal(false) }),
  z.strictObject({ kind: z.literal('set-organization-config'), auditDisabled: z.literal(false) }),
  z.strictObject({ kind: z.literal('set-admin-audit-log-config'), unifiedAuditLogIngestionEnabled: z.literal(true) }),
  z.strictObject({ kind: z.literal('reprocess-licence'), userId: identity }),
  assignLicenceSchema,
]);

export const remediationPlanSchema = z
  .strictObject({
    findingKey: z.string().min(3).max(600),
    episode: z.number().int().min(1),
    ruleId: z.enum(RULE_IDS),
    objectType: z.enum(OBJECT_TYPES),
    objectId: identity,
    userPrincipalName: z.string().max(512),
    logonType: logonType.optional(),
    change: remediationChangeSchema,
    /** For people reading the queue; the worker records describeChange(change), never this text. */
    description: z.string().max(8000),
    idempotencyKey: z.string().regex(/^[0-9a-f]{40}$/, 'an idempotency key is 40 hex digits'),
  })
  .superRefine((plan, ctx) => {
    if (findingKey(plan) !== plan.findingKey) ctx.addIssue({ code: 'custom', path: ['findingKey'], message: 'does not match ruleId, objectId and logonType' });
    if (!CHANGE_KINDS_BY_RULE[plan.ruleId].includes(plan.change.kind)) {
      ctx.addIssue({ code: 'custom', path: ['change', 'kind'], message: `${plan.change.kind} does not fix ${plan.ruleId}` });
    }
    const target = 'identity' in plan.change ? plan.change.identity : 'userId' in plan.change ? plan.change.userId : undefined;
    if (target !== undefined && target !== plan.objectId) {
      ctx.addIssue({ code: 'custom', path: ['change'], message: `changes ${target}, not the finding's object ${plan.objectId}` });
    }
    if (plan.change.kind === 'set-mailbox' && Object.keys(plan.change).length === 2) {
      ctx.addIssue({ code: 'custom', path: ['change'], message: 'a Set-Mailbox change must change something' });
    }
    if (idempotencyKeyOf(plan.findingKey, plan.episode, plan.change) !== plan.idempotencyKey) {
      ctx.addIssue({ code: 'custom', path: ['idempotencyKey'], message: 'is not the hash of this finding and change (the message was altered)' });
    }
  });

const tenantId = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a tenant GUID');
/** Who asked for the change: `policy:auto`, `approval:<upn>`, `cli:<user>`. */
const requestedBy = z.string().min(1).max(300);

export const remediationMessageSchema = z.strictObject({
  version: z.literal(MESSAGE_VERSION),
  type: z.literal('remediation'),
  tenantId,
  plan: remediationPlanSchema,
  requestedBy,
  approvalId: z.string().max(128).optional(),
  enqueuedAt: z.iso.datetime(),
});

export const verificationMessageSchema = z.strictObject({
  version: z.literal(MESSAGE_VERSION),
  type: z.literal('verification'),
  tenantId,
  plan: remediationPlanSchema,
  requestedBy,
  approvalId: z.string().max(128).optional(),
  appliedAt: z.iso.datetime(),
  /** 1 for the first check; a change not visible yet is checked again a few times before it fails. */
  attempt: z.number().int().min(1).max(100),
});

export type RemediationMessage = z.infer<typeof remediationMessageSchema>;
export type VerificationMessage = z.infer<typeof verificationMessageSchema>;
export type QueueMessage = RemediationMessage | VerificationMessage;

const envelopeSchema = z.object({ version: z.unknown(), type: z.unknown() }).loose();

/** A message we refuse; `issues` name the path of each problem. Never retried: it cannot improve. */
export class QueueMessageError extends ValidationError {
  constructor(message: string, issues: string[] = [], options?: { cause?: unknown }) {
    super(message, 'queue message', issues, options);
  }
}

/**
 * Parses what a queue trigger hands over (the host has already base64-decoded it, and gives JSON as
 * an object) or what the in-process drain decoded (a string).
 */
export function parseQueueMessage<T extends QueueMessage['type']>(body: unknown, expected: T): Extract<QueueMessage, { type: T }> {
  let value = body;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const text = value.toString();
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new QueueMessageError(`The ${expected} message is not JSON: "${text.slice(0, 80)}${text.length > 80 ? '…' : ''}".`, [], { cause: error });
    }
  }
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) throw new QueueMessageError(`The ${expected} message is not a JSON object.`, formatZodIssues(envelope.error));
  if (envelope.data.version !== MESSAGE_VERSION) {
    throw new QueueMessageError(
      `The ${expected} message has version ${JSON.stringify(envelope.data.version)}; this worker reads version ${MESSAGE_VERSION} only.`,
      ['version: unsupported'],
    );
  }
  if (envelope.data.type !== expected) {
    throw new QueueMessageError(`Expected a ${expected} message, got type ${JSON.stringify(envelope.data.type)}.`, ['type: unexpected']);
  }
  const schema = expected === 'remediation' ? remediationMessageSchema : verificationMessageSchema;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new QueueMessageError(`The ${expected} message does not have the expected shape.`, formatZodIssues(parsed.error));
  return parsed.data as Extract<QueueMessage, { type: T }>;
}

/** The plan a message carries, with its description recomputed from the change it will make. */
export function trustedPlan(plan: RemediationPlan): RemediationPlan {
  return { ...plan, description: describeChange(plan.change) };
}
