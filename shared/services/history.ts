import type { MailboxCoverage } from '../rules/coverage';
import { z } from 'zod';
import { canonicalJson, digest } from '../store/keys';
import type { DriftEvent } from '../store/model';
import type { Settings } from '../config/settings';
import { openStoreFromSettings, type AuditStore } from '../store/open';
import { previousMonth, monthOf } from '../store/keys';
import type { Page as StorePage } from '../store/paging';
import { QueryParameterError, type EventsQuery, type FindingsQuery, type HistoryQuery, type ScansQuery } from './history-params';
import { eventView, findingView, scanView, type DriftEventView, type FindingView, type ScanView } from './history-views';

export { eventView, findingView, scanView, type DriftEventView, type FindingView, type ScanView } from './history-views';

/**
 * Drift-history queries, one service for the three front ends (HTTP functions, CLI, dashboard).
 * Every result is a page with an opaque continuation token; CLI-style callers use `all` to walk
 * the pages as one stream without holding them.
 */
export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

export interface MailboxIdentity {
  /** What was asked for (object id or UPN). */
  query: string;
  objectId: string;
  /** The UPN asked for, or the one the returned events or configuration carry. */
  userPrincipalName?: string;
  /** Some scan recorded this UPN, or something was found for the object. */
  known: boolean;
}

export interface ConfigurationView {
  objectId: string;
  userPrincipalName: string;
  /** The scan that first read this configuration; it stayed in force until the next snapshot. */
  inForceSince: string;
  scanId: string;
  /**
   * Whether the mailbox's reads were recorded while this snapshot was in force (as the scan that
   * took it judged them); absent for snapshots recorded before verdicts existed.
   */
  coverage?: MailboxCoverage;
  configuration: unknown;
}

export interface MailboxHistoryPage extends Page<DriftEventView> {
  mailbox: MailboxIdentity;
  /** With `at`: the configuration in force then (null: none recorded yet at that time). */
  configuration?: ConfigurationView | null;
}

/** Default window of the events query: what changed in the last week. */
export const DEFAULT_EVENT_WINDOW_DAYS = 7;
/** Longest events window: a decade of monthly tables is 120 reads; more is a typo. */
export const MAX_EVENT_WINDOW_DAYS = 3660;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Our continuation tokens: base64url of {query kind, fingerprint of its filters, the SDK's token,
 * and for the events query the month being read}. The fingerprint stops a token from one query
 * being replayed against different filters (it would silently skip or repeat rows). The token is
 * opaque to callers but not secret, and never trusted: it is parsed, validated, and only ever
 * positions a read whose filter still bounds it to this tenant.
 */
const tokenSchema = z.strictObject({
  v: z.literal(1),
  q: z.enum(['findings', 'history', 'events', 'scans']),
  f: z.string().regex(/^[0-9a-f]{16}$/),
  t: z.string().regex(/^[A-Za-z0-9+/=]{1,3000}$/).optional(),
  m: z.string().regex(/^\d{6}$/).optional(),
});
type TokenBody = z.infer<typeof tokenSchema>;

const sdkTokenSchema = z.strictObject({ nextPartitionKey: z.string().min(1).max(2048), nextRowKey: z.string().max(2048).optional() });

function encodeToken(body: TokenBody): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

function decodeToken(token: string | undefined, kind: TokenBody['q'], fingerprint: string): TokenBody | undefined {
  if (token === undefined) return undefined;
  const invalid = () => new QueryParameterError('continuationToken', 'continuationToken is not a token this query returned (or its filters changed since)');
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid();
  let body: TokenBody;
  try {
    body = tokenSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw invalid();
  }
  if (body.q !== kind || body.f !== fingerprint) throw invalid();
  if (body.t !== undefined) {
    try {
      sdkTokenSchema.parse(JSON.parse(Buffer.from(body.t, 'base64').toString('latin1')));
    } catch {
      throw invalid();
    }
  }
  return body;
}

function fingerprintOf(value: unknown): string {
  return digest(canonicalJson(value), 16);
}

export class HistoryService {
  constructor(
    private readonly store: AuditStore,
    readonly tenantId: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Findings, by default the active ones (not resolved, not gone), filtered by rule, severity, status, mailbox. */
  async findings(query: Omit<FindingsQuery, 'pageSize' | 'continuationToken'> & Partial<Pick<FindingsQuery, 'pageSize' | 'continuationToken'>>): Promise<Page<FindingView>> {
    const filter = { ruleId: query.rule, severity: query.severity, status: query.status ?? 'active', mailbox: query.mailbox };
    const fingerprint = fingerprintOf({ ...filter, mailbox: filter.mailbox?.toLowerCase() });
    const token = decodeToken(query.continuationToken, 'findings', fingerprint);
    const [lastCompleted, page] = await Promise.all([
      this.store.scans.lastCompleted(this.tenantId),
      this.store.findings.list(this.tenantId, filter, { pageSize: query.pageSize ?? 100, next: token?.t }),
    ]);
    return {
      items: page.items.map((finding) => findingView(finding, lastCompleted)),
      ...(page.next ? { continuationToken: encodeToken({ v: 1, q: 'findings', f: fingerprint, t: page.next }) } : {}),
    };
  }

  /** One mailbox's drift events, newest first; with `at`, also its configuration in force then. */
  async mailboxHistory(query: Omit<HistoryQuery, 'pageSize'> & { pageSize?: number }): Promise<MailboxHistoryPage> {
    const mailbox = await this.resolveMailbox(query.mailbox);
    const from = query.from ?? new Date(0);
    const to = query.to ?? this.clock();
    if (from.getTime() > to.getTime()) throw new QueryParameterError('from', 'from must not be after to');
    const fingerprint = fingerprintOf({ objectId: mailbox.objectId.toLowerCase(), from: query.from?.toISOString(), to: query.to?.toISOString() });
    const token = decodeToken(query.continuationToken, 'history', fingerprint);
    const [page, configuration] = await Promise.all([
      this.store.events.forObject(this.tenantId, mailbox.objectId, { from, to }, { pageSize: query.pageSize ?? 100, next: token?.t }),
      query.at ? this.configurationOf(mailbox.objectId, query.at) : Promise.resolve(undefined),
    ]);
    const named = page.items[0]?.userPrincipalName ?? configuration?.userPrincipalName;
    return {
      mailbox: { ...mailbox, ...(named && !mailbox.userPrincipalName ? { userPrincipalName: named } : {}), known: mailbox.known || named !== undefined },
      ...(query.at ? { configuration: configuration ?? null } : {}),
      items: page.items.map(eventView),
      ...(page.next ? { continuationToken: encodeToken({ v: 1, q: 'history', f: fingerprint, t: page.next }) } : {}),
    };
  }

  /** A mailbox's audit configuration at a point in time: the snapshot in force then. */
  async configurationAt(mailbox: string, at: Date): Promise<{ mailbox: MailboxIdentity; configuration: ConfigurationView | null }> {
    const identity = await this.resolveMailbox(mailbox);
    const configuration = (await this.configurationOf(identity.objectId, at)) ?? null;
    const named = configuration?.userPrincipalName;
    return {
      mailbox: { ...identity, ...(named && !identity.userPrincipalName ? { userPrincipalName: named } : {}), known: identity.known || configuration !== null },
      configuration,
    };
  }

  /** Drift events of the tenant in a time window (default: the last week), newest first. */
  async events(query: Partial<EventsQuery>): Promise<Page<DriftEventView>> {
    const to = query.to ?? this.clock();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_EVENT_WINDOW_DAYS * 86_400_000);
    if (from.getTime() > to.getTime()) throw new QueryParameterError('from', 'from must not be after to');
    if (to.getTime() - from.getTime() > MAX_EVENT_WINDOW_DAYS * 86_400_000) {
      throw new QueryParameterError('from', `from must be at most ${MAX_EVENT_WINDOW_DAYS} days before to`);
    }
    const filter = { from, to, ruleId: query.rule, type: query.type };
    const fingerprint = fingerprintOf({ from: from.toISOString(), to: to.toISOString(), ruleId: query.rule, type: query.type });
    const token = decodeToken(query.continuationToken, 'events', fingerprint);
    const firstMonth = monthOf(from);
    let month = token?.m ?? monthOf(to);
    if (month < firstMonth || month > monthOf(to)) throw new QueryParameterError('continuationToken', 'continuationToken does not belong to this time window');
    let next = token?.t;
    // Newest month first; an empty month (or one with no table yet) moves on to the one before.
    for (;;) {
      const page: StorePage<DriftEvent> = await this.store.events.inMonth(this.tenantId, month, filter, { pageSize: query.pageSize ?? 100, next });
      const more = page.next ? { m: month, t: page.next } : month > firstMonth ? { m: previousMonth(month) } : undefined;
      if (page.items.length > 0 || !more) {
        return {
          items: page.items.map(eventView),
          ...(more ? { continuationToken: encodeToken({ v: 1, q: 'events', f: fingerprint, ...more }) } : {}),
        };
      }
      month = more.m;
      next = more.t;
    }
  }

  /** Scan runs, newest first. */
  async scans(query: Partial<ScansQuery> = {}): Promise<Page<ScanView>> {
    const fingerprint = fingerprintOf({});
    const token = decodeToken(query.continuationToken, 'scans', fingerprint);
    const page = await this.store.scans.list(this.tenantId, { pageSize: query.pageSize ?? 100, next: token?.t });
    return {
      items: page.items.map(scanView),
      ...(page.next ? { continuationToken: encodeToken({ v: 1, q: 'scans', f: fingerprint, t: page.next }) } : {}),
    };
  }

  /**
   * Whether any scan ever recorded this object: its UPN is in the index, or a configuration or a
   * drift event is stored for it. Lets a front end tell "clean" from "never seen".
   */
  async everRecorded(identity: MailboxIdentity): Promise<boolean> {
    if (identity.known) return true;
    if (await this.store.mailboxes.latest(this.tenantId, identity.objectId)) return true;
    const events = await this.store.events.forObject(this.tenantId, identity.objectId, { from: new Date(0), to: this.clock() }, { pageSize: 1 });
    return events.items.length > 0;
  }

  /**
   * Object id or UPN → object id. A GUID is taken as an object id as it is; anything else is looked
   * up in the UPN index (a point read), and if unknown there, taken as an object id (bypass
   * associations and the organization are named by identity). Deliberately no range read here:
   * it is on the path of every history query.
   */
  async resolveMailbox(mailbox: string): Promise<MailboxIdentity> {
    const query = mailbox.trim();
    if (GUID.test(query)) return { query, objectId: query.toLowerCase(), known: false };
    const objectId = await this.store.mailboxes.resolveUpn(this.tenantId, query);
    return objectId ? { query, objectId, userPrincipalName: query, known: true } : { query, objectId: query, known: false };
  }

  private async configurationOf(objectId: string, at: Date): Promise<ConfigurationView | undefined> {
    const snapshot = await this.store.mailboxes.configurationAt(this.tenantId, objectId, at);
    return snapshot
      ? {
          objectId: snapshot.objectId,
          userPrincipalName: snapshot.userPrincipalName,
          inForceSince: snapshot.at.toISOString(),
          scanId: snapshot.scanId,
          ...(snapshot.coverage ? { coverage: snapshot.coverage } : {}),
          configuration: snapshot.configuration,
        }
      : undefined;
  }
}

/** Walks every page of a query as one stream: for callers that print everything (the CLI). */
export async function* allPages<T>(fetch: (continuationToken: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const page = await fetch(token);
    yield* page.items;
    token = page.continuationToken;
  } while (token);
}

export function historyFromSettings(settings: Settings): HistoryService {
  return new HistoryService(openStoreFromSettings(settings), settings.AZURE_TENANT_ID);
}
