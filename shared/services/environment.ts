import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { AuditPolicy } from '../config/policy';
import { exchangeScope, graphScope, type Settings } from '../config/settings';
import { ExchangeClient } from '../exchange';
import { createGraphClient } from '../graph';
import type { Logger } from '../logging';
import { readOnlyRecorder, type ScanRecorder } from './scan-recorder';
import type { TenantReader } from './scan';
import { ApiUsageCounter, createTenantReader } from './tenant-reader';

/** Everything a scan needs, built once from settings: the composition root for functions and the CLI. */
export interface ScanEnvironment {
  settings: Settings;
  policy: AuditPolicy;
  reader: TenantReader;
  recorder: ScanRecorder;
  exchange: ExchangeClient;
}

export interface EnvironmentOptions {
  /** Record findings in Table Storage; false for a read-only scan. */
  store: boolean;
  logger: Logger;
  /** Defaults to DefaultAzureCredential: managed identity, AZURE_CLIENT_* variables or an Azure CLI login. */
  credential?: TokenCredential;
  /** The recorder to use when storing; the storage layer supplies it. */
  openRecorder?: (settings: Settings, policy: AuditPolicy, logger: Logger) => Promise<ScanRecorder>;
}

export async function openScanEnvironment(settings: Settings, policy: AuditPolicy, options: EnvironmentOptions): Promise<ScanEnvironment> {
  const credential = options.credential ?? new DefaultAzureCredential();
  const usage = new ApiUsageCounter();
  const graph = createGraphClient({
    baseUrl: settings.GRAPH_BASE_URL,
    credential,
    scope: graphScope(settings),
    onApiEvent: usage.listener,
  });
  const exchange = new ExchangeClient({
    baseUrl: settings.EXCHANGE_BASE_URL,
    tenantId: settings.AZURE_TENANT_ID,
    credential,
    scope: exchangeScope(settings),
    maxConcurrency: settings.EXCHANGE_MAX_CONCURRENCY,
    onApiEvent: usage.listener,
  });
  let recorder = readOnlyRecorder;
  if (options.store) {
    if (!options.openRecorder) throw new Error('storing scans needs a recorder factory');
    recorder = await options.openRecorder(settings, policy, options.logger);
  }
  return { settings, policy, reader: createTenantReader(graph, exchange, usage), recorder, exchange };
}
