import { odata, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type { PolicyException } from '../config/policy';
import type { LogonType } from '../domain/audit';
import { canonicalRuleId, findingKey, ruleIdAliases, type Finding, type FindingValue, type ObjectType, type RuleId, type Severity } from '../domain/finding';
import { ValidationError } from '../errors';
import type { Logger } from '../logging';
import { BatchWriter, type RowResult, type RowWrite } from './batch-writer';
import { isConditionFailed, isConflict, isNotFound } from './errors';
import { deserializeEvent, serializeEvent, type DriftEventRepository } from './events';
import { bucketOf, bucketPartition, canonicalJson, checkKeyLength, digest, objectKey, ruleIdFilter, tenantPartitionRange } from './keys';
import {
  isActiveStatus,
  type DriftEvent,
  type DriftEventType,
  type FindingRef,
  type FindingStatus,
  type StoredFinding,
} from './model';
import { readAll, readPage, type Page, type PageRequest } from './paging';
import type { StoreTables } from './tables';

/**
 * Table `findings`: the current state of every finding ever seen (closed ones stay, so a finding
 * that comes back continues its event numbering).
 *
 * PartitionKey = `tenant|bucket(objectId)`, RowKey = `objectId|ruleId|logonType`. An object's
 * findings share a partition (its history of drift is one range read), a night's writes spread
 * over 64 partitions that batch 100 to a transaction, and all of a tenant's findings are one
 * PartitionKey range, read whole when a scan begins and filtered for the open-findings query.
 *
 * Each row is also the outbox of its own drift events (see `commit`): a transition writes the row
 * first, carrying the event it implies (`pendingSeq`, `pendingEvent`), then the event rows, then
 * clears the marker. Whoever finds a marker left behind by a crash writes the same event again —
 * same key, so no duplicate — before changing the row.
 */
export type FindingEntity = {
  partitionKey: string;
  rowKey: string;
  tenantId: string;
  findingKey: string;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  objectIdLower: string;
  upn: string;
  upnLower: string;
  /** '' when the rule has no logon type (Table Storage cannot store undefined; '' is our "none"). */
  logonType: string;
  severity: Severity;
  status: FindingStatus;
  expected: string;
  actual: string;
  error: string;
  firstSeen: string;
  lastSeen: string;
  closedAt: string;
  exceptionReason: string;
  exceptionExpires: string;
  episode: number;
  seq: number;
  episodeStartSeq: number;
  /** Digest of what a re-scan may change without a transition (details, severity, UPN, exception). */
  detailHash: string;
  /** seq of an event written to this row but not yet confirmed in the event tables; 0 = none. */
  pendingSeq: number;
  pendingEvent: string;
  metadata: string;
  updatedAt: string;
}

/** What a scan needs to remember about a finding between begin and complete (compact). */
export interface FindingState {
  partitionKey: string;
  rowKey: string;
  key: string;
  ruleId: RuleId;
  objectType: ObjectType;
  objectId: string;
  upn: string;
  logonType?: LogonType;
  severity: Severity;
  status: FindingStatus;
  firstSeen: string;
  episode: number;
  seq: number;
  episodeStartSeq: number;
  detailHash: string;
  pendingSeq: number;
  pendingEvent: string;
  etag: string;
}

const STATE_COLUMNS = [
  'PartitionKey',
  'RowKey',
  'findingKey',
  'ruleId',
  'objectType',
  'objectId',
  'upn',
  'logonType',
  'severity',
  'status',
  'firstSeen',
  'episode',
  'seq',
  'episodeStartSeq',
  'detailHash',
  'pendingSeq',
  'pendingEvent',
];

/** A planned change of one row; `next` is the state once it is written. */
export interface Transition {
  create: boolean;
  patch: Partial<FindingEntity> & { partitionKey: string; rowKey: string };
  event?: DriftEvent;
  next: FindingState;
}

/** Plans a change from the row's current state (undefined: no row yet); undefined = nothing to do. */
export type Planner = (current: FindingState | undefined, entity?: TableEntityResult<FindingEntity>) => Transition | undefined;

export interface FindingChange {
  status?: FindingStatus;
  /** Replaces the finding's metadata (read it from `current.metadata` to add to it). */
  metadata?: Record<string, FindingValue>;
  event?: { type: DriftEventType; actor: string; reason?: string; details?: Record<string, unknown>; at?: Date; scanId?: string };
}

export interface FindingFilter {
  ruleId?: RuleId;
  severity?: Severity;
  /** A status, or 'active' for every status but resolved and gone, or 'all'. */
  status?: FindingStatus | 'active' | 'all';
  /** Object id or UPN (case-insensitive). */
  mailbox?: string;
}

/** Who and when, for the transitions a scan makes. */
export interface TransitionContext {
  tenantId: string;
  at: Date;
  actor: string;
  scanId?: string;
}

export function findingLocation(tenantId: string, ref: FindingRef): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: bucketPartition(tenantId, bucketOf(ref.objectId.toLowerCase())),
    rowKey: checkKeyLength(`${objectKey(ref.objectId)}|${ref.ruleId}|${ref.logonType ?? '-'}`, 'The finding key'),
  };
}

/** Values are JSON in one string property; a 64 KiB property limit is far above any rule's output, but guard it. */
function valueJson(value: FindingValue): string {
  const json = JSON.stringify(value ?? null);
  return json.length > 30_000 ? JSON.stringify(`${json.slice(0, 30_000)}… (truncated)`) : json;
}

export function detailHashOf(finding: Finding, exception?: PolicyException): string {
  return digest(
    canonicalJson({
      objectType: finding.objectType,
      upn: finding.userPrincipalName,
      severity: finding.severity,
      expected: finding.expected,
      actual: finding.actual,
      error: finding.error ?? null,
      exception: exception ? { reason: exception.reason, expires: exception.expires } : null,
    }),
  );
}

export function stateFromEntity(entity: TableEntityResult<Partial<FindingEntity>> & { etag: string }): FindingState {
  return {
    partitionKey: entity.partitionKey ?? '',
    rowKey: entity.rowKey ?? '',
    key: entity.findingKey ?? '',
    // Rows stored under a rule's earlier id read as its current id.
    ruleId: (canonicalRuleId(entity.ruleId ?? '') ?? entity.ruleId) as RuleId,
    objectType: entity.objectType as ObjectType,
    objectId: entity.objectId ?? '',
    upn: entity.upn ?? '',
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    severity: entity.severity as Severity,
    status: entity.status as FindingStatus,
    firstSeen: entity.firstSeen ?? '',
    episode: entity.episode ?? 0,
    seq: entity.seq ?? 0,
    episodeStartSeq: entity.episodeStartSeq ?? 0,
    detailHash: entity.detailHash ?? '',
    pendingSeq: entity.pendingSeq ?? 0,
    pendingEvent: entity.pendingEvent ?? '',
    etag: entity.etag,
  };
}

export function toStoredFinding(entity: TableEntityResult<FindingEntity>): StoredFinding {
  const ruleId = canonicalRuleId(entity.ruleId) ?? entity.ruleId;
  return {
    tenantId: entity.tenantId,
    key: ruleId === entity.ruleId ? entity.findingKey : findingKey({ ruleId, objectId: entity.objectId, ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}) }),
    ruleId,
    objectType: entity.objectType,
    objectId: entity.objectId,
    userPrincipalName: entity.upn,
    ...(entity.logonType ? { logonType: entity.logonType as LogonType } : {}),
    severity: entity.severity,
    status: entity.status,
    expected: entity.expected ? (JSON.parse(entity.expected) as FindingValue) : null,
    actual: entity.actual ? (JSON.parse(entity.actual) as FindingValue) : null,
    ...(entity.error ? { error: entity.error } : {}),
    firstSeen: new Date(entity.firstSeen),
    ...(entity.lastSeen ? { lastSeen: new Date(entity.lastSeen) } : {}),
    ...(entity.closedAt ? { closedAt: new Date(entity.closedAt) } : {}),
    ...(entity.exceptionReason ? { exception: { reason: entity.exceptionReason, expires: entity.exceptionExpires } } : {}),
    episode: entity.episode,
    seq: entity.seq,
    episodeStartSeq: entity.episodeStartSeq,
    metadata: entity.metadata ? (JSON.parse(entity.metadata) as Record<string, FindingValue>) : {},
    etag: entity.etag,
  };
}

function makeEvent(state: FindingState, seq: number, type: DriftEventType, ctx: TransitionContext, extra: { reason?: string; details?: Record<string, unknown> }): DriftEvent {
  return {
    tenantId: ctx.tenantId,
    eventId: `${state.key}|${seq}`,
    seq,
    type,
    ruleId: state.ruleId,
    objectType: state.objectType,
    objectId: state.objectId,
    userPrincipalName: state.upn,
    ...(state.logonType ? { logonType: state.logonType } : {}),
    severity: state.severity,
    at: ctx.at,
    actor: ctx.actor,
    ...(extra.reason ? { reason: extra.reason } : {}),
    details: extra.details ?? {},
    ...(ctx.scanId ? { scanId: ctx.scanId } : {}),
  };
}

/**
 * What a scan's observation of a finding changes. Opening (or re-opening after it closed) starts
 * an episode with a `detected` or `excepted` event; an active finding only changes on a move into
 * or out of an exception, or when its details change (no event: nothing started or ended).
 * Remediation statuses (awaiting-approval, remediating, failed) are left alone while the drift lasts.
 */
export function planObservation(
  current: FindingState | undefined,
  finding: Finding,
  exception: PolicyException | undefined,
  ctx: TransitionContext,
): Transition | undefined {
  const key = findingKey(finding);
  const location = findingLocation(ctx.tenantId, finding);
  const hash = detailHashOf(finding, exception);
  const details: Partial<FindingEntity> = {
    tenantId: ctx.tenantId,
    findingKey: key,
    ruleId: finding.ruleId,
    objectType: finding.objectType,
    objectId: finding.objectId,
    objectIdLower: finding.objectId.toLowerCase(),
    upn: finding.userPrincipalName,
    upnLower: finding.userPrincipalName.toLowerCase(),
    logonType: finding.logonType ?? '',
    severity: finding.severity,
    expected: valueJson(finding.expected),
    actual: valueJson(finding.actual),
    error: finding.error ?? '',
    exceptionReason: exception?.reason ?? '',
    exceptionExpires: exception?.expires ?? '',
    detailHash: hash,
    updatedAt: ctx.at.toISOString(),
  };
  const base: FindingState = {
    ...location,
    key,
    ruleId: finding.ruleId,
    objectType: finding.objectType,
    objectId: finding.objectId,
    upn: finding.userPrincipalName,
    ...(finding.logonType ? { logonType: finding.logonType } : {}),
    severity: finding.severity,
    status: current?.status ?? 'open',
    firstSeen: current?.firstSeen ?? ctx.at.toISOString(),
    episode: current?.episode ?? 0,
    seq: current?.seq ?? 0,
    episodeStartSeq: current?.episodeStartSeq ?? 0,
    detailHash: hash,
    pendingSeq: 0,
    pendingEvent: '',
    etag: current?.etag ?? '',
  };
  const eventDetails = {
    expected: finding.expected,
    actual: finding.actual,
    ...(finding.error ? { error: finding.error } : {}),
    ...(exception ? { expires: exception.expires } : {}),
  };

  if (!current || !isActiveStatus(current.status)) {
    const seq = base.seq + 1;
    const status: FindingStatus = exception ? 'excepted' : 'open';
    const next: FindingState = { ...base, status, firstSeen: ctx.at.toISOString(), episode: base.episode + 1, seq, episodeStartSeq: seq };
    const event = makeEvent(next, seq, exception ? 'excepted' : 'detected', ctx, { reason: exception?.reason, details: eventDetails });
    next.pendingSeq = seq;
    next.pendingEvent = serializeEvent(event);
    return {
      create: !current,
      patch: {
        ...location,
        ...details,
        status,
        firstSeen: next.firstSeen,
        lastSeen: '',
        closedAt: '',
        episode: next.episode,
        seq,
        episodeStartSeq: seq,
        pendingSeq: seq,
        pendingEvent: next.pendingEvent,
        ...(current ? {} : { metadata: '{}' }),
      },
      event,
      next,
    };
  }

  const intoException = exception !== undefined && current.status !== 'excepted';
  const outOfException = exception === undefined && current.status === 'excepted';
  if (intoException || outOfException) {
    const seq = current.seq + 1;
    const status: FindingStatus = intoException ? 'excepted' : 'open';
    const next: FindingState = { ...base, status, seq };
    const event = makeEvent(next, seq, intoException ? 'excepted' : 'detected', ctx, {
      reason: intoException ? exception?.reason : 'the policy exception expired or was removed',
      details: eventDetails,
    });
    next.pendingSeq = seq;
    next.pendingEvent = serializeEvent(event);
    return { create: false, patch: { ...location, ...details, status, seq, pendingSeq: seq, pendingEvent: next.pendingEvent }, event, next };
  }

  if (hash !== current.detailHash) return { create: false, patch: { ...location, ...details }, next: { ...base } };
  return undefined;
}

/** A completed scan no longer sees the finding (`resolved`) or its object at all (`gone`). */
export function planClose(current: FindingState | undefined, kind: 'resolved' | 'gone', lastSeen: Date, ctx: TransitionContext): Transition | undefined {
  if (!current || !isActiveStatus(current.status)) return undefined;
  const seq = current.seq + 1;
  const next: FindingState = { ...current, status: kind, seq };
  const event = makeEvent(next, seq, kind, ctx, {
    details: { lastSeen: lastSeen.toISOString(), previousStatus: current.status },
    ...(kind === 'gone' ? { reason: 'the object no longer exists in the tenant' } : {}),
  });
  next.pendingSeq = seq;
  next.pendingEvent = serializeEvent(event);
  return {
    create: false,
    patch: {
      partitionKey: current.partitionKey,
      rowKey: current.rowKey,
      status: kind,
      closedAt: ctx.at.toISOString(),
      lastSeen: lastSeen.toISOString(),
      seq,
      pendingSeq: seq,
      pendingEvent: next.pendingEvent,
      updatedAt: ctx.at.toISOString(),
    },
    event,
    next,
  };
}

export interface CommitItem {
  ref: FindingRef;
  transition: Transition;
  /** Re-plans from a fresh read when the batched write lost a race (ETag) with another writer. */
  replan: Planner;
}

export class FindingRepository {
  constructor(
    private readonly tables: StoreTables,
    private readonly writer: BatchWriter,
    private readonly events: DriftEventRepository,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private get table() {
    return this.tables.client(this.tables.names.findings);
  }

  /** Every finding of a tenant, compact, page by page (the scan's memory). */
  async *states(tenantId: string): AsyncGenerator<FindingState> {
    const { low, high } = tenantPartitionRange(tenantId);
    for await (const entity of readAll<FindingEntity>(
      this.tables,
      this.tables.names.findings,
      odata`PartitionKey ge ${low} and PartitionKey lt ${high}`,
      'reading the findings',
      STATE_COLUMNS,
    )) {
      yield stateFromEntity(entity);
    }
  }

  /** Whether this row was stored under an earlier id of its rule (its key still names that id). */
  storedUnderEarlierId(tenantId: string, state: FindingState): boolean {
    return findingLocation(tenantId, state).rowKey !== state.rowKey;
  }

  /**
   * Moves a row stored under an earlier id of its rule to the current id's key, in one transaction
   * (both keys share the object's partition), so the finding keeps its first-seen date and history
   * instead of being resolved and detected again. Returns the row's state at its new key.
   */
  async moveToCurrentRuleId(tenantId: string, state: FindingState): Promise<FindingState> {
    const location = findingLocation(tenantId, state);
    try {
      const old = await this.table.getEntity<FindingEntity>(state.partitionKey, state.rowKey);
      const { etag: _etag, timestamp: _timestamp, ...fields } = old as TableEntityResult<FindingEntity> & { timestamp?: string };
      const moved: FindingEntity = {
        ...(fields as FindingEntity),
        rowKey: location.rowKey,
        ruleId: state.ruleId,
        findingKey: findingKey(state),
      };
      await this.table.submitTransaction([
        ['upsert', moved, 'Replace'],
        ['delete', { partitionKey: state.partitionKey, rowKey: state.rowKey }],
      ]);
      return stateFromEntity(await this.table.getEntity<FindingEntity>(location.partitionKey, location.rowKey));
    } catch (error) {
      throw this.tables.fail(error, 'moving a finding to its rule\'s current id');
    }
  }

  async get(tenantId: string, ref: FindingRef): Promise<StoredFinding | undefined> {
    const entity = await this.read(tenantId, ref);
    return entity ? toStoredFinding(entity) : undefined;
  }

  /** The row of a finding; one stored under an earlier id of its rule (not yet moved by a scan) is found too. */
  private async read(tenantId: string, ref: FindingRef): Promise<TableEntityResult<FindingEntity> | undefined> {
    for (const ruleId of ruleIdAliases(ref.ruleId)) {
      const { partitionKey, rowKey } = findingLocation(tenantId, { ...ref, ruleId: ruleId as RuleId });
      try {
        return await this.table.getEntity<FindingEntity>(partitionKey, rowKey);
      } catch (error) {
        if (!isNotFound(error)) throw this.tables.fail(error, 'reading a finding');
      }
    }
    return undefined;
  }

  /**
   * Read-modify-write of one finding with optimistic concurrency: the write carries the ETag that
   * was read and, when another writer got there first (412), we read again and re-apply `mutate`.
   * For remediation and approval (status changes, their events). Returns the finding as written,
   * or as it is when `mutate` returns nothing; undefined if there is no such finding.
   */
  async update(
    tenantId: string,
    ref: FindingRef,
    mutate: (current: StoredFinding) => FindingChange | undefined,
  ): Promise<StoredFinding | undefined> {
    let found = true;
    await this.apply(tenantId, ref, (state, entity) => {
      if (!state || !entity) {
        found = false;
        return undefined;
      }
      const change = mutate(toStoredFinding(entity));
      return change ? planChange(state, toStoredFinding(entity), change, tenantId, this.clock()) : undefined;
    });
    return found ? this.get(tenantId, ref) : undefined;
  }

  /**
   * Applies one transition outside any batch: read, plan, conditional write, retry on 412 / 409,
   * then the outbox steps. Used by `update` and as the fallback of `commit`. A writer can lose many
   * rounds in a row to a busy one, so the limit is generous; the jittered wait breaks lockstep.
   */
  async apply(tenantId: string, ref: FindingRef, plan: Planner, maxAttempts = 50): Promise<FindingState | undefined> {
    for (let attempt = 1; ; attempt++) {
      const entity = await this.read(tenantId, ref);
      let state = entity ? stateFromEntity(entity) : undefined;
      if (state && state.pendingSeq > 0) {
        // Someone crashed (or is still working) between writing this row and its event: finish
        // their event first, or our transition would overwrite the only record of it.
        state = await this.deliverPending(state);
        continue;
      }
      const transition = plan(state, entity);
      if (!transition) return state;
      try {
        const response = transition.create
          ? await this.table.createEntity(transition.patch)
          : await this.table.updateEntity(transition.patch, 'Merge', { etag: state?.etag });
        const next = { ...transition.next, etag: response.etag ?? '' };
        return await this.finishOutbox(next, transition.event);
      } catch (error) {
        const raced = isConditionFailed(error) || isConflict(error) || isNotFound(error);
        if (!raced) throw this.tables.fail(error, 'writing a finding');
        if (attempt >= maxAttempts) {
          throw this.tables.fail(error, `writing a finding after ${attempt} attempts (another writer keeps changing it)`);
        }
        await sleep(Math.min(500, 10 * 2 ** attempt) * Math.random());
      }
    }
  }

  /**
   * deliverPending for many rows, batched: what a scan's begin finds after a crash can be a whole
   * round of markers (tens of thousands), too many to finish one request at a time.
   */
  async deliverPendingMany(states: FindingState[]): Promise<FindingState[]> {
    const pending = states.filter((state) => state.pendingSeq > 0 && state.pendingEvent);
    const eventRows = pending.flatMap((state) => this.events.rowsFor(deserializeEvent(state.pendingEvent)));
    const eventResults = await this.writer.write(eventRows);
    const failed = eventResults.find((result) => !result.ok);
    if (failed && !failed.ok) throw this.tables.fail({ statusCode: failed.statusCode }, 'writing drift events left by an interrupted run');
    const clears: RowWrite[] = pending.map((state) => ({
      table: this.tables.names.findings,
      action: ['update', { partitionKey: state.partitionKey, rowKey: state.rowKey, pendingSeq: 0, pendingEvent: '' }, 'Merge', { etag: state.etag }],
    }));
    const results = await this.writer.write(clears);
    const delivered = new Map<FindingState, FindingState>();
    for (const [index, state] of pending.entries()) {
      const result = results[index];
      delivered.set(state, result?.ok ? { ...state, pendingSeq: 0, pendingEvent: '', etag: result.etag ?? state.etag } : await this.clearOne(state));
    }
    return states.map((state) => delivered.get(state) ?? state);
  }

  /** Re-writes the event a row's marker names, then clears the marker (if nobody changed the row since). */
  async deliverPending(state: FindingState): Promise<FindingState> {
    if (state.pendingSeq === 0 || !state.pendingEvent) return state;
    return this.finishOutbox(state, deserializeEvent(state.pendingEvent));
  }

  /** The outbox's last two steps for one row: its event rows, then the cleared marker. */
  private async finishOutbox(state: FindingState, event: DriftEvent | undefined): Promise<FindingState> {
    if (!event) return state;
    await this.events.append([event]);
    return this.clearOne(state);
  }

  /**
   * Writes many transitions the batched way, in three ordered steps — rows (with their event as a
   * marker), then the event rows, then the cleared markers — so a crash anywhere leaves either
   * nothing or a marker that the next reader delivers. `alongside` rows are written with the first
   * step (a mailbox's configuration snapshot). Rows whose batch lost an ETag race are redone one by
   * one through `apply`. Returns each item's state after writing.
   */
  async commit(tenantId: string, items: CommitItem[], alongside: RowWrite[] = []): Promise<FindingState[]> {
    const table = this.tables.names.findings;
    const rowWrites: RowWrite[] = items.map(({ transition }) => ({
      table,
      action: transition.create
        ? (['create', transition.patch] as TransactionAction)
        : (['update', transition.patch, 'Merge', { etag: transition.next.etag || '*' }] as TransactionAction),
    }));
    const results = await this.writer.write([...rowWrites, ...alongside]);
    const failedAlongside = results.slice(rowWrites.length).find((result) => !result.ok);
    if (failedAlongside && !failedAlongside.ok) {
      throw this.tables.fail({ statusCode: failedAlongside.statusCode }, 'writing mailbox configuration rows');
    }

    const states: FindingState[] = new Array<FindingState>(items.length);
    const retry: number[] = [];
    items.forEach((item, index) => {
      const result = results[index] as RowResult;
      if (result.ok) states[index] = { ...item.transition.next, etag: result.etag ?? '' };
      else retry.push(index);
    });

    const delivered = items.flatMap((item, index) => (states[index] && item.transition.event ? [index] : []));
    const eventRows = delivered.flatMap((index) => this.events.rowsFor(items[index]!.transition.event!));
    const eventResults = await this.writer.write(eventRows);
    const eventFailure = eventResults.find((result) => !result.ok);
    if (eventFailure && !eventFailure.ok) throw this.tables.fail({ statusCode: eventFailure.statusCode }, 'writing drift events');

    const clears: RowWrite[] = delivered.map((index) => {
      const state = states[index]!;
      return {
        table,
        action: ['update', { partitionKey: state.partitionKey, rowKey: state.rowKey, pendingSeq: 0, pendingEvent: '' }, 'Merge', { etag: state.etag }],
      };
    });
    const clearResults = await this.writer.write(clears);
    delivered.forEach((index, position) => {
      const result = clearResults[position];
      if (result?.ok) states[index] = { ...states[index]!, pendingSeq: 0, pendingEvent: '', etag: result.etag ?? states[index]!.etag };
    });
    // A marker we could not clear in a batch (another writer changed a row of that batch) is cleared
    // one by one; where the row really changed, the other writer has taken over our event.
    const uncleared = delivered.filter((_, position) => !clearResults[position]?.ok);
    for (const index of uncleared) states[index] = await this.clearOne(states[index]!);

    if (retry.length > 0) {
      this.logger.warn('Findings changed by another writer during the scan; re-applying one by one', { tenantId, count: retry.length });
      for (const index of retry) {
        const item = items[index]!;
        const state = await this.apply(tenantId, item.ref, item.replan);
        if (state) states[index] = state;
      }
    }
    return states;
  }

  /** Clears a delivered marker if the row is still as we wrote it (412: its new writer has taken over). */
  private async clearOne(state: FindingState): Promise<FindingState> {
    try {
      const response = await this.table.updateEntity(
        { partitionKey: state.partitionKey, rowKey: state.rowKey, pendingSeq: 0, pendingEvent: '' },
        'Merge',
        { etag: state.etag },
      );
      return { ...state, pendingSeq: 0, pendingEvent: '', etag: response.etag ?? state.etag };
    } catch (error) {
      if (isConditionFailed(error) || isNotFound(error)) return state;
      throw this.tables.fail(error, 'clearing a delivered event marker');
    }
  }

  /**
   * Status and metadata changes without a drift event (a change queued, an approval requested),
   * batched: Merge writes carrying each finding's ETag, up to 100 per transaction. Returns the
   * findings whose write lost a race (412: the row changed since it was read), for the caller to
   * redo one by one through `update`.
   */
  async setStatusMany(
    tenantId: string,
    changes: Array<{ finding: StoredFinding; status: FindingStatus; metadata: Record<string, FindingValue> }>,
    at: Date = this.clock(),
  ): Promise<StoredFinding[]> {
    const table = this.tables.names.findings;
    const rows: RowWrite[] = changes.map(({ finding, status, metadata }) => ({
      table,
      action: ['update', { ...findingLocation(tenantId, finding), status, metadata: JSON.stringify(metadata), updatedAt: at.toISOString() }, 'Merge', { etag: finding.etag }],
    }));
    const results = await this.writer.write(rows);
    return changes.filter((_, index) => !results[index]?.ok).map((change) => change.finding);
  }

  /** Findings of a tenant, filtered; every value reaches the filter through the odata tag. */
  async list(tenantId: string, filter: FindingFilter, page: PageRequest): Promise<Page<StoredFinding>> {
    const { low, high } = tenantPartitionRange(tenantId);
    let query = odata`PartitionKey ge ${low} and PartitionKey lt ${high}`;
    if (filter.ruleId) query += ` and ${ruleIdFilter(filter.ruleId)}`;
    if (filter.severity) query += odata` and severity eq ${filter.severity}`;
    const status = filter.status ?? 'active';
    if (status === 'active') query += odata` and status ne ${'resolved'} and status ne ${'gone'}`;
    else if (status !== 'all') query += odata` and status eq ${status}`;
    if (filter.mailbox) {
      const mailbox = filter.mailbox.toLowerCase();
      query += odata` and (objectIdLower eq ${mailbox} or upnLower eq ${mailbox})`;
    }
    return readPage<FindingEntity, StoredFinding>(this.tables, this.tables.names.findings, query, page, toStoredFinding, 'reading findings');
  }

  /** Closed findings (resolved, gone) of every tenant, for retention. */
  closed(): AsyncGenerator<TableEntityResult<FindingEntity>> {
    return readAll<FindingEntity>(
      this.tables,
      this.tables.names.findings,
      odata`status eq ${'resolved'} or status eq ${'gone'}`,
      'reading closed findings',
      ['PartitionKey', 'RowKey', 'status', 'closedAt'],
    );
  }

  /** Active findings of every tenant with the seq their current episode started at, for retention. */
  active(): AsyncGenerator<TableEntityResult<FindingEntity>> {
    return readAll<FindingEntity>(
      this.tables,
      this.tables.names.findings,
      odata`status ne ${'resolved'} and status ne ${'gone'}`,
      'reading active findings',
      ['PartitionKey', 'RowKey', 'tenantId', 'findingKey', 'episodeStartSeq'],
    );
  }
}

/** The transition a FindingChange (from update) makes. */
export function planChange(state: FindingState, current: StoredFinding, change: FindingChange, tenantId: string, now: Date): Transition {
  const at = change.event?.at ?? now;
  const status = change.status ?? current.status;
  const reopening = !isActiveStatus(current.status) && isActiveStatus(status);
  const closing = isActiveStatus(current.status) && !isActiveStatus(status);
  const seq = change.event ? state.seq + 1 : state.seq;
  const next: FindingState = {
    ...state,
    status,
    seq,
    ...(reopening ? { episode: state.episode + 1, firstSeen: at.toISOString(), episodeStartSeq: seq } : {}),
    pendingSeq: 0,
    pendingEvent: '',
  };
  const patch: Transition['patch'] = {
    partitionKey: state.partitionKey,
    rowKey: state.rowKey,
    status,
    updatedAt: now.toISOString(),
    ...(change.metadata ? { metadata: JSON.stringify(change.metadata) } : {}),
    ...(closing ? { closedAt: at.toISOString(), lastSeen: at.toISOString() } : {}),
    ...(reopening ? { episode: next.episode, firstSeen: next.firstSeen, episodeStartSeq: seq, closedAt: '', lastSeen: '' } : {}),
  };
  let event: DriftEvent | undefined;
  if (change.event) {
    event = makeEvent(next, seq, change.event.type, { tenantId, at, actor: change.event.actor, scanId: change.event.scanId }, {
      reason: change.event.reason,
      details: change.event.details,
    });
    next.pendingSeq = seq;
    next.pendingEvent = serializeEvent(event);
    Object.assign(patch, { seq, pendingSeq: seq, pendingEvent: next.pendingEvent });
  }
  return { create: false, patch, event, next };
}

/** Parses `ruleId|objectId[|logonType]` (findingKey's format) back into its parts. */
export function parseFindingKey(key: string): FindingRef {
  const parts = key.split('|');
  const ruleId = (canonicalRuleId(parts[0] ?? '') ?? parts[0]) as RuleId;
  const last = parts[parts.length - 1];
  if (parts.length >= 3 && (last === 'Owner' || last === 'Delegate' || last === 'Admin')) {
    return { ruleId, objectId: parts.slice(1, -1).join('|'), logonType: last };
  }
  if (parts.length < 2) throw new ValidationError(`"${key}" is not a finding key (rule|object[|logonType]).`, 'finding key');
  return { ruleId, objectId: parts.slice(1).join('|') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
