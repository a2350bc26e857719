import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { loadPolicy, type AuditPolicy } from '../config/policy';
import { exchangeScope, graphScope, loadSettings, type Settings } from '../config/settings';
import { ExchangeClient } from '../exchange';
import { createGraphClient } from '../graph';
import type { ApiEvent, RetryPolicy } from '../http';
import { silentLogger, type Logger } from '../logging';
import { StorageQueueGateway, type QueueGateway } from '../queue';
import { createRemediationTenant, type RemediationTenant } from '../remediation/tenant';
import { ApprovalRepository } from '../store/approvals';
import { credentialFor } from '../store/credential';
import { openStoreFromSettings, type AuditStore } from '../store/open';
import { RemediationRepository } from '../store/remediations';
import type { RemediationServices } from './remediation';
import { RemediationWorker, type RemediationWorkerOptions } from './remediation-worker';
import { ApiUsageCounter } from './tenant-reader';

/**
 * Everything remediation needs, built once from settings: the composition root the queue-triggered
 * functions, the timer and the command line share. Tests and the benchmark pass their own store,
 * queues (with a prefix) and client retry settings.
 */
export interface RemediationEnvironment {
  settings: Settings;
  policy: AuditPolicy;
  /** For planRemediation / approve / reject. */
  services: RemediationServices;
  /** For the queue triggers and the in-process drain. */
  worker: RemediationWorker;
  queues: QueueGateway;
  store: AuditStore;
  remediations: RemediationRepository;
  approvals: ApprovalRepository;
  tenant: RemediationTenant;
  exchange: ExchangeClient;
  /** Calls made and throttled answers seen (429s and the concurrency error), for progress and the benchmark. */
  usage: ApiUsageCounter;
}

export interface RemediationEnvironmentOptions {
  logger: Logger;
  credential?: TokenCredential;
  store?: AuditStore;
  queues?: QueueGateway;
  /** Exchange client retries (tests shorten the waits). */
  exchangeRetry?: Partial<RetryPolicy>;
  worker?: RemediationWorkerOptions;
  clock?: () => Date;
  onApiEvent?: (event: ApiEvent) => void;
  afterApply?: ConstructorParameters<typeof RemediationWorker>[0]['afterApply'];
}

export function openRemediationEnvironment(settings: Settings, policy: AuditPolicy, options: RemediationEnvironmentOptions): RemediationEnvironment {
  const credential = options.credential ?? new DefaultAzureCredential();
  const usage = new ApiUsageCounter();
  const listener = (event: ApiEvent) => {
    usage.listener(event);
    options.onApiEvent?.(event);
  };
  const exchange = new ExchangeClient({
    baseUrl: settings.EXCHANGE_BASE_URL,
    tenantId: settings.AZURE_TENANT_ID,
    credential,
    scope: exchangeScope(settings),
    // The tenant's concurrency budget is shared by every caller of this client: however many
    // messages are handled at once, no more than this many Exchange calls are in flight.
    maxConcurrency: settings.EXCHANGE_MAX_CONCURRENCY,
    onApiEvent: listener,
    ...(options.exchangeRetry ? { retry: options.exchangeRetry } : {}),
  });
  const graph = createGraphClient({ baseUrl: settings.GRAPH_BASE_URL, credential, scope: graphScope(settings), onApiEvent: listener });
  const store = options.store ?? openStoreFromSettings(settings, {}, { logger: options.logger });
  const queues = options.queues ?? new StorageQueueGateway({ connectionString: settings.storage.queues, credential: credentialFor(settings.storage.queues, settings.storage) });
  const remediations = new RemediationRepository(store.tables, store.writer);
  const approvals = new ApprovalRepository(store.tables);
  const tenant = createRemediationTenant(exchange, graph);
  const tenantId = settings.AZURE_TENANT_ID;
  const paused = settings.REMEDIATION_PAUSED;
  const services: RemediationServices = {
    tenantId,
    policy,
    paused,
    store,
    remediations,
    approvals,
    queues,
    logger: options.logger,
    licences: tenant,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const worker = new RemediationWorker({
    tenantId,
    policy,
    paused,
    store,
    remediations,
    queues,
    tenant,
    logger: options.logger,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.worker ? { options: options.worker } : {}),
    ...(options.afterApply ? { afterApply: options.afterApply } : {}),
  });
  return { settings, policy, services, worker, queues, store, remediations, approvals, tenant, exchange, usage };
}

let production: Promise<RemediationEnvironment> | undefined;

/**
 * The Functions app's environment, built once per process from the app settings: every invocation
 * shares one Exchange client, so its concurrency limit holds across all messages the instance
 * handles at once. Invocations log through `worker.withLogger(loggerFrom(context))`.
 */
export function productionRemediationEnvironment(): Promise<RemediationEnvironment> {
  production ??= (async () => {
    const settings = loadSettings(process.env);
    const policy = await loadPolicy(settings.AUDIT_POLICY_PATH);
    return openRemediationEnvironment(settings, policy, { logger: silentLogger });
  })();
  // A failed start (bad settings) is not cached: the next invocation reports it afresh.
  production.catch(() => (production = undefined));
  return production;
}
