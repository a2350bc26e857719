import type { TokenCredential } from '@azure/identity';
import type { AuditPolicy } from '../config/policy';
import type { Settings } from '../config/settings';
import type { ExchangeClient } from '../exchange';
import type { ApiEvent, RetryPolicy } from '../http';
import type { Logger } from '../logging';
import { buildTenantClients, type TenantClients } from './clients';
import { StorageQueueGateway, type QueueGateway } from '../queue';
import { createRemediationTenant, type RemediationTenant } from '../tenant/gateway';
import { ApprovalRepository } from '../store/approvals';
import { credentialFor } from '../store/credential';
import { openStoreFromSettings, type AuditStore } from '../store/open';
import { RemediationRepository } from '../store/remediations';
import { RemediationWorker, type RemediationServices, type RemediationWorkerOptions } from '../services/remediation';
import type { ApiUsageCounter } from '../services/tenant-reader';

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
  /** The process's clients (app.ts passes them); built here when absent. */
  clients?: TenantClients;
}

export function openRemediationEnvironment(settings: Settings, policy: AuditPolicy, options: RemediationEnvironmentOptions): RemediationEnvironment {
  const { graph, exchange, usage } =
    options.clients ??
    buildTenantClients(settings, {
      ...(options.credential ? { credential: options.credential } : {}),
      ...(options.exchangeRetry ? { exchangeRetry: options.exchangeRetry } : {}),
      ...(options.onApiEvent ? { onApiEvent: options.onApiEvent } : {}),
    });
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
