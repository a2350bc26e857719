/**
 * Remediation benchmark: N drifted mailboxes (AuditEnabled turned off) in the simulated tenant,
 * fixed through the real pipeline — stored scan, planRemediation onto an Azurite queue, then the
 * worker draining the remediation and verification queues in-process — against Exchange answering
 * after `latencyMs` and refusing beyond `concurrencyLimit` calls in flight (the "maximum number of
 * concurrent requests per tenant" error).
 *
 *   node dist/scripts/bench-remediation.js                 10,000 mailboxes, 50 ms, limit 10
 *   node dist/scripts/bench-remediation.js --mailboxes 2000
 *
 * Or from another script (npm run bench): `benchRemediation(options)` → figures,
 * `benchRemediationReport(quick)` → the printed section.
 */
import { parseArgs } from 'node:util';
import { parsePolicy } from '../shared/config/policy';
import { parseSettings } from '../shared/config/settings';
import { RULE_IDS, type RemediationMode, type RuleId } from '../shared/domain/finding';
import { silentLogger } from '../shared/logging';
import { StorageQueueGateway } from '../shared/queue';
import { openScanEnvironment } from '../shared/app/scan-environment';
import { drainQueues, planRemediation } from '../shared/services/remediation';
import { openRemediationEnvironment } from '../shared/app/remediation-environment';
import { runScan } from '../shared/services/scan';
import { openStore } from '../shared/store/open';
import { TableScanRecorder } from '../shared/store/recorder';
import { DEFAULT_POLICY_MAILBOX_TYPES, generateTenant, groundTruth, injectDrift, startSimulatedTenant } from '../sim';
import { startAzurite } from './azurite';

export interface BenchRemediationOptions {
  /** Drifted mailboxes to fix (default 10,000). */
  mailboxes?: number;
  /** Exchange and Graph latency per call (default 50 ms). */
  latencyMs?: number;
  /** Exchange calls in flight before the tenant refuses with the concurrency error (default 10). */
  concurrencyLimit?: number;
  /** Changes planned and drained per wave (default 500): see the note on Azurite's queues below. */
  waveSize?: number;
  /** Messages handled at once by the in-process worker (default 64). */
  workerConcurrency?: number;
  /** An Azurite (or storage account) to use; by default one is started and stopped. */
  connectionString?: string;
  log?: (line: string) => void;
}

export interface BenchRemediationFigures {
  mailboxes: number;
  /** Changes planned and put on the queue. */
  enqueued: number;
  /** Changes applied and verified. */
  verified: number;
  blocked: number;
  failed: number;
  /** verified ÷ wall seconds (planning included). */
  fixesPerSecond: number;
  /** 429s and concurrency errors the client saw (each was retried). */
  throttled: number;
  /** Of those, the tenant's concurrency error (the simulated tenant's count). */
  concurrencyRejections: number;
  /** Enqueued changes that did not end verified, blocked or recorded failed (target 0). */
  messagesLost: number;
  /** Drifted mailboxes the tenant still reports after the run (its own record, not our scan). */
  driftLeft: number;
  exchangeCalls: number;
  maxExchangeInFlight: number;
  scanMs: number;
  planMs: number;
  /** Planning, queueing, applying and verifying every change (all waves). */
  wallMs: number;
}

export async function benchRemediation(options: BenchRemediationOptions = {}): Promise<BenchRemediationFigures> {
  const drifted = options.mailboxes ?? 10_000;
  const latencyMs = options.latencyMs ?? 50;
  const concurrencyLimit = options.concurrencyLimit ?? 10;
  const log = options.log ?? (() => undefined);

  // A tenant big enough to hold `drifted` in-scope mailboxes; their auditing is switched off.
  const tenant = generateTenant({ seed: 4242, mailboxes: Math.ceil(drifted / 0.9) + 50 });
  const targets = tenant.mailboxes.filter((mailbox) => DEFAULT_POLICY_MAILBOX_TYPES.has(mailbox.recipientTypeDetails) && mailbox.auditEnabled).slice(0, drifted);
  for (const mailbox of targets) injectDrift(tenant, mailbox.guid, { kind: 'audit-disabled' });
  const sim = await startSimulatedTenant({ tenant, latencyMs, concurrencyLimit });
  const azurite = options.connectionString ? undefined : await startAzurite();
  const connectionString = options.connectionString ?? azurite!.connectionString;
  try {
    const credential = {
      getToken: async (scopes: string | string[]) => ({
        token: sim.issueToken((Array.isArray(scopes) ? scopes[0]! : scopes).replace(/\/\.default$/, '')),
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
    };
    const settings = parseSettings({
      AZURE_TENANT_ID: sim.tenantId,
      GRAPH_BASE_URL: sim.baseUrl,
      EXCHANGE_BASE_URL: sim.baseUrl,
      AzureWebJobsStorage: connectionString,
      // The client never has more in flight than the tenant accepts.
      EXCHANGE_MAX_CONCURRENCY: String(Math.min(16, concurrencyLimit)),
    });
    // Only the rule under test runs automatically; the blast-radius limit is lifted for the run.
    const modes = Object.fromEntries(RULE_IDS.map((id): [RuleId, RemediationMode] => [id, id === 'mailbox-audit-disabled' ? 'auto' : 'report']));
    const policy = parsePolicy({ modes, blastRadiusLimit: drifted * 2 }, 'benchmark policy');
    const run = `b${Date.now().toString(36)}`;
    const store = openStore({ connectionString, tablePrefix: run });
    const queues = new StorageQueueGateway({ connectionString, queuePrefix: run });

    log(`scanning ${tenant.mailboxes.length.toLocaleString('en-US')} mailboxes…`);
    let started = Date.now();
    const scanEnvironment = await openScanEnvironment(settings, policy, { store: true, logger: silentLogger, credential, openRecorder: async () => new TableScanRecorder(store) });
    await runScan({ tenantId: settings.AZURE_TENANT_ID, policy, reader: scanEnvironment.reader, recorder: scanEnvironment.recorder, logger: silentLogger });
    const scanMs = Date.now() - started;

    const environment = openRemediationEnvironment(settings, policy, {
      logger: silentLogger,
      credential,
      store,
      queues,
      worker: { verifyDelaySeconds: 0, verifyRetryDelaySeconds: 1, transientRetryMs: 1000 },
    });
    // Azurite's queue scans every message in the account on each receive and delete (its Loki
    // store), so a queue holding all N messages measures the emulator, not the pipeline. The run
    // plans in waves (planRemediation's `limit`, the CLI's --limit) and drains each wave;
    // Azure's queues have no such cost, where one wave of N is fine.
    const wave = options.waveSize ?? 500;
    sim.stats.reset();
    const callsBefore = environment.usage.calls;
    const counts: Record<string, number> = {};
    let enqueued = 0;
    let planMs = 0;
    let wallMs = 0;
    for (;;) {
      started = Date.now();
      const plan = await planRemediation(environment.services, { requestedBy: 'bench:remediation', limit: wave });
      planMs += Date.now() - started;
      if (plan.enqueued === 0) break;
      enqueued += plan.enqueued;
      const drained = await drainQueues(environment.worker, environment.queues, { concurrency: options.workerConcurrency ?? 64, maxRetryDelayMs: 2000 });
      wallMs += Date.now() - started;
      for (const [name, value] of Object.entries(drained.counts)) counts[name] = (counts[name] ?? 0) + (value ?? 0);
      log(`  ${enqueued.toLocaleString('en-US')} queued · ${(counts.verified ?? 0).toLocaleString('en-US')} verified · ${(wallMs / 1000).toFixed(0)} s`);
    }

    const ledger = await environment.remediations.countByStatus(settings.AZURE_TENANT_ID);
    const accounted = (ledger.verified ?? 0) + (ledger.blocked ?? 0) + (ledger.failed ?? 0);
    const verified = counts.verified ?? 0;
    return {
      mailboxes: targets.length,
      enqueued,
      verified,
      blocked: counts.blocked ?? 0,
      failed: (counts.failed ?? 0) + (counts['recorded-poison'] ?? 0),
      fixesPerSecond: verified / (wallMs / 1000),
      throttled: environment.usage.throttled,
      concurrencyRejections: sim.stats.concurrencyRejections,
      messagesLost: enqueued - accounted,
      driftLeft: groundTruth(tenant).filter((finding) => finding.ruleId === 'mailbox-audit-disabled').length,
      exchangeCalls: environment.usage.calls - callsBefore,
      maxExchangeInFlight: sim.stats.maxExchangeInFlight,
      scanMs,
      planMs,
      wallMs,
    };
  } finally {
    await sim.stop();
    await azurite?.stop();
  }
}

/** The section `npm run bench` prints. */
export async function benchRemediationReport(quick: boolean): Promise<string> {
  const mailboxes = quick ? 2_000 : 10_000;
  const figures = await benchRemediation({ mailboxes, latencyMs: 50, concurrencyLimit: 10 });
  return [
    `Remediation (simulated tenant, 50 ms latency, concurrency limit 10; Azurite queues and tables; worker in-process)`,
    table(
      ['drifted mailboxes', 'queued', 'verified', 'blocked+failed', 'fixes/s', 'throttled', 'lost', 'drift left', 'Exchange calls', 'max in flight', 'drain s', 'scan s', 'plan s'],
      [
        [
          figures.mailboxes.toLocaleString('en-US'),
          figures.enqueued.toLocaleString('en-US'),
          figures.verified.toLocaleString('en-US'),
          String(figures.blocked + figures.failed),
          figures.fixesPerSecond.toFixed(1),
          String(figures.throttled),
          String(figures.messagesLost),
          String(figures.driftLeft),
          figures.exchangeCalls.toLocaleString('en-US'),
          String(figures.maxExchangeInFlight),
          (figures.wallMs / 1000).toFixed(1),
          (figures.scanMs / 1000).toFixed(1),
          (figures.planMs / 1000).toFixed(1),
        ],
      ],
    ),
    'Each fix is one Set-Mailbox and one Get-Mailbox (verification): the tenant\'s ceiling at 50 ms and 10 in flight is 100 fixes/s. About 22 storage requests per fix (ledger, finding + drift-event outbox, queues) make Azurite, one Node thread, the limit here. Target: 0 messages lost.',
  ].join('\n');
}

/** Same layout as bench.ts's tables (importing bench.ts would run it). */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padStart(widths[column]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

if (require.main === module) {
  const { values } = parseArgs({ options: { mailboxes: { type: 'string' }, quick: { type: 'boolean', default: false } }, strict: true });
  const run = values.mailboxes
    ? benchRemediation({ mailboxes: Number(values.mailboxes), log: (line) => process.stderr.write(`${line}\n`) }).then((figures) => JSON.stringify(figures, null, 2))
    : benchRemediationReport(values.quick);
  run.then(
    (text) => process.stdout.write(`${text}\n`),
    (error: unknown) => {
      process.stderr.write(`bench-remediation: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
