import { odata, type TableEntityResult } from '@azure/data-tables';
import type { RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import type { RemediationPlan } from '../remediation/plan';
import { isConditionFailed, isConflict, isNotFound } from './errors';
import { tenantKey } from './keys';
import { readAll } from './paging';
import type { StoreTables } from './tables';
import { textOf } from '../text';

/**
 * Table `approvals`: one row per approval request. PartitionKey = tenant, RowKey = request id.
 * A tenant has a handful of open requests at a time, so one partition serves "what is pending"
 * with one query.
 *
 * A request covers one plan (a rule whose policy mode is approval) or up to MAX_PLANS_PER_REQUEST
 * plans of one rule (automatic changes over the night's blast-radius limit). It is single use: the
 * decision is written with the ETag that was read while it was pending, so of two approvers
 * deciding at once (two Teams clicks, the CLI and Teams) exactly one wins and the other is told who
 * decided. A pending request past its expiry is decided by nobody: it reads, and is recorded, as
 * expired.
 */
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Plans in one request. Table string properties hold 32K characters; plans are split across several. */
export const MAX_PLANS_PER_REQUEST = 100;
const CHUNK = 30_000;
const MAX_CHUNKS = 30;

export interface ApprovalRequest {
  tenantId: string;
  requestId: string;
  status: ApprovalStatus;
  /** Why a person must decide: the rule's mode, or the blast-radius limit. */
  reason: string;
  createdAt: Date;
  expiresAt: Date;
  /** Who or what asked: `scan:<scanId>`, `cli:<user>`. */
  createdBy: string;
  plans: RemediationPlan[];
  ruleIds: RuleId[];
  decidedBy?: string;
  decidedAt?: Date;
  /** A rejection's reason, or an approval's note. */
  decisionReason?: string;
  etag: string;
}

export type NewApprovalRequest = Omit<ApprovalRequest, 'status' | 'ruleIds' | 'etag' | 'decidedBy' | 'decidedAt' | 'decisionReason'>;

type ApprovalEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  requestId: string;
  status: ApprovalStatus;
  reason: string;
  createdAt: string;
  expiresAt: string;
  createdBy: string;
  planCount: number;
  findingKeys: string;
  ruleIds: string;
  chunks: number;
  decidedBy: string;
  decidedAt: string;
  decisionReason: string;
} & Record<`plans${number}`, string>;

/** A decision that cannot be made: decided already, expired, or no such request. */
export class ApprovalStateError extends ValidationError {
  constructor(
    message: string,
    readonly request?: ApprovalRequest,
  ) {
    super(message, 'approval');
  }
}

export class ApprovalRepository {
  constructor(private readonly tables: StoreTables) {}

  get tableName(): string {
    return `${this.tables.names.prefix}approvals`;
  }

  private get table() {
    return this.tables.client(this.tableName);
  }

  /** Creates the request; creating the same id again returns the request that exists. */
  async create(request: NewApprovalRequest): Promise<ApprovalRequest> {
    if (request.plans.length === 0 || request.plans.length > MAX_PLANS_PER_REQUEST) {
      throw new ValidationError(`An approval request covers 1 to ${MAX_PLANS_PER_REQUEST} plans; got ${request.plans.length}.`, 'approval');
    }
    const plansJson = JSON.stringify(request.plans);
    const chunks = Math.ceil(plansJson.length / CHUNK);
    if (chunks > MAX_CHUNKS) throw new ValidationError('The plans of this approval request are too large to store.', 'approval');
    const entity: Record<string, unknown> = {
      partitionKey: tenantKey(request.tenantId),
      rowKey: request.requestId,
      tenantId: request.tenantId,
      requestId: request.requestId,
      status: 'pending',
      reason: request.reason,
      createdAt: request.createdAt.toISOString(),
      expiresAt: request.expiresAt.toISOString(),
      createdBy: request.createdBy,
      planCount: request.plans.length,
      findingKeys: JSON.stringify(request.plans.map((plan) => plan.findingKey)).slice(0, CHUNK),
      ruleIds: JSON.stringify([...new Set(request.plans.map((plan) => plan.ruleId))]),
      chunks,
      decidedBy: '',
      decidedAt: '',
      decisionReason: '',
    };
    for (let index = 0; index < chunks; index++) entity[`plans${index}`] = plansJson.slice(index * CHUNK, (index + 1) * CHUNK);
    await this.tables.ensure(this.tableName);
    try {
      await this.table.createEntity(entity as ApprovalEntity);
    } catch (error) {
      if (!isConflict(error)) throw this.tables.fail(error, 'creating an approval request');
    }
    const stored = await this.get(request.tenantId, request.requestId);
    if (!stored) throw this.tables.fail({ statusCode: 404 }, 'reading back an approval request');
    return stored;
  }

  async get(tenantId: string, requestId: string): Promise<ApprovalRequest | undefined> {
    await this.tables.ensure(this.tableName);
    try {
      return toRequest(await this.table.getEntity<ApprovalEntity>(tenantKey(tenantId), requestId));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.tables.fail(error, 'reading an approval request');
    }
  }

  /** A tenant's requests with one status (or all), oldest first. */
  async list(tenantId: string, status?: ApprovalStatus): Promise<ApprovalRequest[]> {
    await this.tables.ensure(this.tableName);
    let filter = odata`PartitionKey eq ${tenantKey(tenantId)}`;
    if (status) filter += odata` and status eq ${status}`;
    const requests: ApprovalRequest[] = [];
    for await (const entity of readAll<ApprovalEntity>(this.tables, this.tableName, filter, 'reading approval requests')) {
      requests.push(toRequest(entity));
    }
    return requests.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /**
   * Decides a pending request, once. Throws ApprovalStateError when it is not pending any more
   * (naming who decided and when) or has expired (and records the expiry).
   */
  async decide(
    tenantId: string,
    requestId: string,
    decision: { status: 'approved' | 'rejected'; by: string; at: Date; reason?: string },
  ): Promise<ApprovalRequest> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = await this.get(tenantId, requestId);
      if (!current) throw new ApprovalStateError(`There is no approval request "${requestId}".`);
      if (current.status !== 'pending') throw alreadyDecided(current);
      if (current.expiresAt.getTime() <= decision.at.getTime()) {
        const expired = await this.expire(current, decision.at);
        throw new ApprovalStateError(
          `Approval request ${requestId} expired at ${current.expiresAt.toISOString()}; nothing was changed. The next planning run asks again.`,
          expired,
        );
      }
      try {
        const values = {
          partitionKey: tenantKey(tenantId),
          rowKey: requestId,
          status: decision.status,
          decidedBy: decision.by,
          decidedAt: decision.at.toISOString(),
          decisionReason: (decision.reason ?? '').slice(0, 2000),
        };
        const response = await this.table.updateEntity(values, 'Merge', { etag: current.etag });
        return {
          ...current,
          status: decision.status,
          decidedBy: decision.by,
          decidedAt: decision.at,
          ...(decision.reason ? { decisionReason: decision.reason } : {}),
          etag: response.etag ?? '',
        };
      } catch (error) {
        // 412: someone decided (or expired) it between our read and our write; read again to say who.
        if (!isConditionFailed(error)) throw this.tables.fail(error, 'recording an approval decision');
      }
    }
    throw this.tables.fail({ statusCode: 412 }, 'recording an approval decision (the request keeps changing)');
  }

  /** Marks a pending request expired (ETag-guarded; a decision that got there first stands). */
  async expire(request: ApprovalRequest, at: Date): Promise<ApprovalRequest> {
    try {
      const response = await this.table.updateEntity(
        { partitionKey: tenantKey(request.tenantId), rowKey: request.requestId, status: 'expired', decidedBy: 'expiry', decidedAt: at.toISOString() },
        'Merge',
        { etag: request.etag },
      );
      return { ...request, status: 'expired', decidedBy: 'expiry', decidedAt: at, etag: response.etag ?? '' };
    } catch (error) {
      if (isConditionFailed(error)) return (await this.get(request.tenantId, request.requestId)) ?? request;
      throw this.tables.fail(error, 'expiring an approval request');
    }
  }
}

function alreadyDecided(request: ApprovalRequest): ApprovalStateError {
  const when = request.decidedAt ? ` at ${request.decidedAt.toISOString()}` : '';
  const who = request.status === 'expired' ? '' : ` by ${request.decidedBy ?? 'someone'}`;
  return new ApprovalStateError(`Approval request ${request.requestId} was already ${request.status}${who}${when}; a request is decided once.`, request);
}

function toRequest(entity: TableEntityResult<ApprovalEntity>): ApprovalRequest {
  let plansJson = '';
  for (let index = 0; index < (entity.chunks ?? 0); index++) plansJson += textOf((entity as Record<string, unknown>)[`plans${index}`]);
  return {
    tenantId: entity.tenantId,
    requestId: entity.requestId,
    status: entity.status,
    reason: entity.reason ?? '',
    createdAt: new Date(entity.createdAt),
    expiresAt: new Date(entity.expiresAt),
    createdBy: entity.createdBy ?? '',
    plans: plansJson ? (JSON.parse(plansJson) as RemediationPlan[]) : [],
    ruleIds: entity.ruleIds ? (JSON.parse(entity.ruleIds) as RuleId[]) : [],
    ...(entity.decidedBy ? { decidedBy: entity.decidedBy } : {}),
    ...(entity.decidedAt ? { decidedAt: new Date(entity.decidedAt) } : {}),
    ...(entity.decisionReason ? { decisionReason: entity.decisionReason } : {}),
    etag: entity.etag,
  };
}
