/**
 * Storage benchmark: what recording a scan costs in Table Storage, and how fast a mailbox's
 * history comes back once a lot of history is stored. Against Azurite, so operation counts are
 * exact and times are an emulator's (Azure is faster per request, and its queries use indexes).
 *
 *   node dist/scripts/bench-store.js            100,000 mailboxes, 1,000,000 events (~30 min on 2 cores)
 *   node dist/scripts/bench-store.js --quick    10,000 mailboxes, 100,000 events
 *   node dist/scripts/bench-store.js --mailboxes 50000 --events 300000
 *
 * Or from another script: `benchStore(connectionString, options)`, `benchStoreReport(quick)`.
 */
import { emptyCoverageTally } from '../shared/rules/coverage';
import { parseArgs } from 'node:util';
import type { LogonType } from '../shared/domain/audit';
import type { Finding } from '../shared/domain/finding';
import { allPages, HistoryService } from '../shared/services/history';
import type { ObservedObject, ScanTotals } from '../shared/domain/ports';
import { bucketOf, invertedTime } from '../shared/store/keys';
import { TableOperationCounter, type TableOperationCounts } from './table-metrics';
import type { DriftEvent } from '../shared/store/model';
import { openStore, type AuditStore } from '../shared/store/open';
import { TableScanRecorder } from '../shared/store/recorder';
import { startAzurite } from './azurite';

export interface BenchStoreOptions {
  /** Mailboxes in the tenant (default 100,000). */
  mailboxes?: number;
  /** Share of mailboxes with drift (default 0.1). */
  driftRatio?: number;
  /** Drift events stored before the history queries are timed, counting the scans' own (default 1,000,000). */
  events?: number;
  /** History queries timed (default 200). */
  historyQueries?: number;
  /** Table prefix, so a run never meets earlier data (default: unique per run). */
  tablePrefix?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface ScanFigures {
  wallMs: number;
  operations: TableOperationCounts;
  /** Entity writes other than the scan-run row (written at begin and at complete). */
  writesBeyondScanRow: number;
  findingsOpened: number;
}

export interface BenchStoreResult {
  mailboxes: number;
  drifting: number;
  firstScan: ScanFigures;
  rescan: ScanFigures;
  history: {
    eventsStored: number;
    loadMs: number;
    queries: number;
    byObjectId: Latency;
    byUpn: Latency;
    eventsPerHistory: number;
  };
  targets: { rescanWritesPerThousandMailboxes: number; rescanMet: boolean; historyP95Met: boolean };
}

export interface Latency {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

const TENANT = '0b5e2a4c-7d1f-4e3a-9c8b-6a5f4e3d2c1b';
const SCAN_ROW_WRITES = 2;
const ACTIONS = ['MailItemsAccessed', 'Update', 'MoveToDeletedItems', 'SoftDelete', 'HardDelete', 'UpdateFolderPermissions', 'UpdateInboxRules'];

function objectIdOf(index: number): string {
  return `5d0c${index.toString(16).padStart(4, '0').slice(-4)}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

function upnOf(index: number): string {
  return `user${index}@bench.example`;
}

/**
 * The tenant: every tenth mailbox drifts, in one of three ways (MailItemsAccessed missing for two
 * logon types, auditing off, retention too short); 100 bypass associations, one enabled; the org.
 */
function* tenantObjects(mailboxes: number, driftRatio: number): Generator<ObservedObject> {
  const every = Math.max(1, Math.round(1 / driftRatio));
  for (let index = 0; index < mailboxes; index++) {
    const objectId = objectIdOf(index);
    const upn = upnOf(index);
    const drift = index % every === 0 ? (Math.floor(index / every) % 3) + 1 : 0;
    const missing: LogonType[] = drift === 1 ? ['Owner', 'Admin'] : [];
    const actions = (type: LogonType) => (missing.includes(type) ? ACTIONS.slice(1) : ACTIONS);
    const base = { objectType: 'mailbox' as const, objectId, userPrincipalName: upn };
    const findings: Finding[] = [
      ...missing.map((logonType): Finding => ({ ...base, ruleId: 'mailitemsaccessed-missing', logonType, severity: 'high', expected: 'MailItemsAccessed', actual: null })),
      ...(drift === 2 ? [{ ...base, ruleId: 'mailbox-audit-disabled' as const, severity: 'low' as const, expected: true, actual: false }] : []),
      ...(drift === 3 ? [{ ...base, ruleId: 'mailbox-audit-log-age-short' as const, severity: 'low' as const, expected: 180, actual: 90 }] : []),
    ];
    yield {
      ...base,
      mailbox: {
        objectId,
        exchangeGuid: `ex-${objectId}`,
        userPrincipalName: upn,
        primarySmtpAddress: upn,
        recipientTypeDetails: 'UserMailbox',
        auditEnabled: drift !== 2,
        auditLogAgeLimitDays: drift === 3 ? 90 : 180,
        auditActions: { Owner: actions('Owner'), Delegate: actions('Delegate'), Admin: actions('Admin') },
        defaultAuditSet: missing.length > 0 ? ['Delegate'] : ['Owner', 'Delegate', 'Admin'],
      },
      findings,
      excepted: [],
    };
  }
  for (let index = 0; index < 100; index++) {
    const objectId = `b7a5e000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
    const base = { objectType: 'bypass-association' as const, objectId, userPrincipalName: `svc${index}@bench.example` };
    yield { ...base, findings: index === 0 ? [{ ...base, ruleId: 'audit-bypass-enabled', severity: 'critical', expected: false, actual: true }] : [], excepted: [] };
  }
  yield { objectType: 'organization', objectId: 'bench.onmicrosoft.com', userPrincipalName: 'bench.onmicrosoft.com', findings: [], excepted: [] };
}

async function recordScan(store: AuditStore, counter: TableOperationCounter, options: Required<Pick<BenchStoreOptions, 'mailboxes' | 'driftRatio'>>, at: Date): Promise<ScanFigures> {
  counter.reset();
  const started = Date.now();
  const recorder = new TableScanRecorder(store);
  await recorder.begin({ tenantId: TENANT, scanId: invertedTime(at), startedAt: at });
  const findingsByRule: ScanTotals['findingsByRule'] = {};
  for (const object of tenantObjects(options.mailboxes, options.driftRatio)) {
    for (const finding of object.findings) findingsByRule[finding.ruleId] = (findingsByRule[finding.ruleId] ?? 0) + 1;
    await recorder.observe(object);
  }
  const changes = await recorder.complete({
    finishedAt: new Date(at.getTime() + 60_000),
    coverage: emptyCoverageTally(),
    mailboxes: options.mailboxes,
    bypassAssociations: 100,
    findingsByRule,
    ruleErrors: 0,
    apiCalls: 0,
    throttledCalls: 0,
  });
  const operations = counter.snapshot();
  return { wallMs: Date.now() - started, operations, writesBeyondScanRow: operations.entityWrites - SCAN_ROW_WRITES, findingsOpened: changes.opened.length };
}

/**
 * Synthetic history, loaded the way the store writes it (both copies of each event, in
 * transactions): `count` events spread over every mailbox and over 400 days. Each chunk takes
 * mailboxes in bucket order and spreads over 8 days, so its rows fill transactions in both tables
 * (by object: ~100 mailboxes per bucket; by time: ~2,500 events per day) — loading a million
 * events one small transaction at a time would measure the loader, not the store.
 */
async function loadEvents(store: AuditStore, mailboxes: number, count: number, now: Date, log: (line: string) => void): Promise<void> {
  const chunk = 20_000;
  const daysPerChunk = 8;
  const types = ['detected', 'resolved', 'excepted', 'approved', 'remediated', 'verified'] as const;
  const byBucket = Array.from({ length: mailboxes }, (_, index) => index).sort((a, b) =>
    bucketOf(objectIdOf(a)).localeCompare(bucketOf(objectIdOf(b))),
  );
  const today = Math.floor(now.getTime() / 86_400_000);
  let loaded = 0;
  for (let start = 0, chunkIndex = 0; start < count; start += chunk, chunkIndex++) {
    const events: DriftEvent[] = [];
    for (let n = start; n < Math.min(count, start + chunk); n++) {
      const index = byBucket[n % mailboxes]!;
      const round = Math.floor(n / mailboxes);
      const daysAgo = 2 + ((chunkIndex * daysPerChunk + (n % daysPerChunk)) % 400);
      events.push({
        tenantId: TENANT,
        eventId: `audit-actions-missing|${objectIdOf(index)}|Delegate|${100 + round}`,
        seq: 100 + round,
        type: types[round % types.length]!,
        ruleId: 'audit-actions-missing',
        objectType: 'mailbox',
        objectId: objectIdOf(index),
        userPrincipalName: upnOf(index),
        logonType: 'Delegate',
        severity: 'medium',
        at: new Date((today - daysAgo) * 86_400_000 + (n % 86_000) * 1000),
        actor: round % 2 === 0 ? 'scan:bench' : 'approver@bench.example',
        reason: 'synthetic history for the benchmark',
        details: { expected: ['UpdateInboxRules'], actual: [] },
      });
    }
    await store.events.append(events);
    loaded += events.length;
    if (chunkIndex % 5 === 4) log(`  loaded ${loaded.toLocaleString('en-US')} events`);
  }
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(sorted[sorted.length - 1] ?? 0) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export async function benchStore(connectionString: string, opts: BenchStoreOptions = {}): Promise<BenchStoreResult> {
  const options = { mailboxes: opts.mailboxes ?? 100_000, driftRatio: opts.driftRatio ?? 0.1 };
  const eventsWanted = opts.events ?? 1_000_000;
  const queries = opts.historyQueries ?? 200;
  const log = opts.log ?? (() => undefined);
  const counter = new TableOperationCounter();
  const store = openStore({
    connectionString,
    tablePrefix: opts.tablePrefix ?? `bench${Date.now().toString(36)}`,
    additionalPolicies: [{ policy: counter.policy, position: 'perRetry' }],
  });
  await store.tables.ensureFixed();

  const now = new Date();
  log(`first scan: ${options.mailboxes.toLocaleString('en-US')} mailboxes`);
  const firstScan = await recordScan(store, counter, options, new Date(now.getTime() - 86_400_000));
  log(`unchanged re-scan`);
  const rescan = await recordScan(store, counter, options, now);

  // The scans stored one event per opened finding; the rest of the million is synthetic.
  const synthetic = Math.max(0, eventsWanted - firstScan.findingsOpened);
  log(`loading ${synthetic.toLocaleString('en-US')} events`);
  const loadStarted = Date.now();
  await loadEvents(store, options.mailboxes, synthetic, now, log);
  const loadMs = Date.now() - loadStarted;

  log(`timing ${queries} history queries`);
  const history = new HistoryService(store, TENANT, () => new Date(now.getTime() + 60_000));
  const timeHistory = async (mailbox: (index: number) => string) => {
    const samples: number[] = [];
    let events = 0;
    for (let q = -10; q < queries; q++) {
      const index = Math.abs((q * 48_271 + 12_345) % options.mailboxes);
      const started = process.hrtime.bigint();
      let count = 0;
      for await (const _event of allPages((continuationToken) => history.mailboxHistory({ mailbox: mailbox(index), pageSize: 100, continuationToken }))) count++;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (q >= 0) {
        samples.push(ms);
        events += count;
      }
    }
    return { latency: latency(samples), eventsPerHistory: round(events / queries) };
  };
  const byObjectId = await timeHistory(objectIdOf);
  const byUpn = await timeHistory(upnOf);

  const perThousand = (rescan.writesBeyondScanRow / options.mailboxes) * 1000;
  return {
    mailboxes: options.mailboxes,
    drifting: Math.ceil(options.mailboxes * options.driftRatio),
    firstScan,
    rescan,
    history: {
      eventsStored: synthetic + firstScan.findingsOpened,
      loadMs,
      queries,
      byObjectId: byObjectId.latency,
      byUpn: byUpn.latency,
      eventsPerHistory: byObjectId.eventsPerHistory,
    },
    targets: { rescanWritesPerThousandMailboxes: round(perThousand), rescanMet: perThousand <= 1, historyP95Met: byUpn.latency.p95Ms < 100 && byObjectId.latency.p95Ms < 100 },
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const n = (value: number) => value.toLocaleString('en-US');

export function formatBenchStore(result: BenchStoreResult): string {
  const scanRow = (name: string, figures: ScanFigures) => [
    name,
    (figures.wallMs / 1000).toFixed(1),
    n(figures.operations.entityWrites),
    n(figures.writesBeyondScanRow),
    n(figures.operations.writeRequests),
    n(figures.operations.readRequests),
    n(figures.operations.entitiesRead),
    n(figures.findingsOpened),
  ];
  const h = result.history;
  return [
    `Table Storage (Azurite, ${n(result.mailboxes)} mailboxes, ${n(result.drifting)} drifting, + 100 bypass associations and the org)`,
    table(
      ['scan', 'wall s', 'entity writes', 'beyond scan row', 'write requests', 'read requests', 'entities read', 'findings opened'],
      [scanRow('first scan', result.firstScan), scanRow('unchanged re-scan', result.rescan)],
    ),
    `Re-scan writes beyond the scan-run row: ${result.targets.rescanWritesPerThousandMailboxes} per 1,000 mailboxes (target ≤ 1): ${result.targets.rescanMet ? 'met' : 'NOT met'}.`,
    '',
    `History of one mailbox with ${n(h.eventsStored)} events stored (loaded in ${(h.loadMs / 1000).toFixed(0)} s, both copies; ${h.eventsPerHistory} events per mailbox history; ${h.queries} queries each)`,
    table(
      ['mailbox given as', 'p50 ms', 'p95 ms', 'max ms'],
      [
        ['object id', String(h.byObjectId.p50Ms), String(h.byObjectId.p95Ms), String(h.byObjectId.maxMs)],
        ['UPN', String(h.byUpn.p50Ms), String(h.byUpn.p95Ms), String(h.byUpn.maxMs)],
      ],
    ),
    `Target p95 < 100 ms: ${result.targets.historyP95Met ? 'met' : 'NOT met'}.`,
  ].join('\n');
}

/**
 * Azurite keeps every row in memory, and two million rows outgrow Node's default heap (~4 GB). Its
 * process inherits our environment, so room is given there unless the caller already chose.
 */
function startRoomyAzurite() {
  process.env.NODE_OPTIONS ??= '--max-old-space-size=12288';
  return startAzurite();
}

/** A `npm run bench` section: starts its own Azurite, runs, returns the printed report. */
export async function benchStoreReport(quick: boolean, log: (line: string) => void = () => undefined): Promise<string> {
  const azurite = await startRoomyAzurite();
  try {
    const result = await benchStore(azurite.connectionString, quick ? { mailboxes: 10_000, events: 100_000, log } : { log });
    return formatBenchStore(result);
  } finally {
    await azurite.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, mailboxes: { type: 'string' }, events: { type: 'string' }, queries: { type: 'string' } },
    strict: true,
  });
  const number = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number`);
    return Number(value);
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const azurite = await startRoomyAzurite();
  try {
    const result = await benchStore(azurite.connectionString, {
      mailboxes: number(values.mailboxes, 'mailboxes') ?? (values.quick ? 10_000 : 100_000),
      events: number(values.events, 'events') ?? (values.quick ? 100_000 : 1_000_000),
      historyQueries: number(values.queries, 'queries'),
      log,
    });
    process.stdout.write(`${formatBenchStore(result)}\n`);
  } finally {
    await azurite.stop();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench-store: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
