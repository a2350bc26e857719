import { DEFAULT_POLICY, parsePolicy, type AuditPolicy } from '../../shared/config/policy';
import { parseSettings } from '../../shared/config/settings';
import { silentLogger } from '../../shared/logging';
import { StorageQueueGateway } from '../../shared/queue';
import { openScanEnvironment } from '../../shared/app/scan-environment';
import { drainQueues, type DrainOptions } from '../../shared/services/remediation';
import { openRemediationEnvironment, type RemediationEnvironment, type RemediationEnvironmentOptions } from '../../shared/app/remediation-environment';
import { runScan, type ScanResult } from '../../shared/services/scan';
import { openStore, type AuditStore } from '../../shared/store/open';
import { TableScanRecorder } from '../../shared/store/recorder';
import type { GenerateTenantOptions } from '../../sim';
import { startTenant } from './sim';
import { testStorageConnectionString, uniqueName } from './storage';

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** Queue names are lower-case; a per-suite prefix keeps suites apart in the shared Azurite. */
export function queuePrefix(): string {
  return `q${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.toLowerCase().slice(0, 20);
}

/**
 * A simulated tenant, a store and queues of its own in the test run's Azurite, and the production
 * scan and remediation services over them, with retries shortened so tests do not wait.
 */
export async function startHarness(
  tenant: GenerateTenantOptions,
  options: {
    policy?: Partial<AuditPolicy>;
    settings?: Record<string, string>;
    server?: Parameters<typeof startTenant>[1];
    environment?: Partial<RemediationEnvironmentOptions>;
  } = {},
) {
  const { sim, env, credential } = await startTenant(tenant, options.server ?? {});
  const connectionString = testStorageConnectionString();
  const settings = parseSettings({ ...env, AzureWebJobsStorage: connectionString, EXCHANGE_MAX_CONCURRENCY: '8', ...options.settings });
  const policy = options.policy ? parsePolicy({ ...options.policy }, 'test policy') : DEFAULT_POLICY;
  const store: AuditStore = openStore({ connectionString, tablePrefix: uniqueName('r') });
  const queues = new StorageQueueGateway({ connectionString, queuePrefix: queuePrefix() });

  const open = (extra: Partial<RemediationEnvironmentOptions> = {}, overrides: { paused?: boolean } = {}): RemediationEnvironment =>
    openRemediationEnvironment({ ...settings, ...(overrides.paused !== undefined ? { REMEDIATION_PAUSED: overrides.paused } : {}) }, policy, {
      logger: silentLogger,
      credential,
      store,
      queues,
      exchangeRetry: { baseDelayMs: 2, maxDelayMs: 10 },
      worker: { verifyDelaySeconds: 0, verifyRetryDelaySeconds: 0, transientRetryMs: 0 },
      ...options.environment,
      ...extra,
    });

  const scan = async (): Promise<ScanResult> => {
    const environment = await openScanEnvironment(settings, policy, {
      store: true,
      logger: silentLogger,
      credential,
      openRecorder: async () => new TableScanRecorder(store),
    });
    return runScan({ tenantId: settings.AZURE_TENANT_ID, policy, reader: environment.reader, recorder: environment.recorder, logger: silentLogger });
  };

  const drain = (environment: RemediationEnvironment, drainOptions: DrainOptions = {}) =>
    drainQueues(environment.worker, environment.queues, { concurrency: 8, maxRetryDelayMs: 0, idleWaitMs: 50, timeoutMs: 60_000, ...drainOptions });

  const findings = async (status: Parameters<AuditStore['findings']['list']>[1]['status'] = 'all') =>
    (await store.findings.list(settings.AZURE_TENANT_ID, { status }, { pageSize: 1000 })).items;

  const events = async (objectId: string) =>
    (await store.events.forObject(settings.AZURE_TENANT_ID, objectId, { from: new Date(0), to: new Date(Date.now() + 86_400_000) }, { pageSize: 1000 })).items;

  return { sim, env, credential, settings, policy, store, queues, open, scan, drain, findings, events, tenantId: settings.AZURE_TENANT_ID, stop: () => sim.stop() };
}
