import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { exchangeScope, graphScope, type Settings } from '../config/settings';
import { ExchangeClient } from '../exchange';
import { createGraphClient, type GraphClient } from '../graph';
import type { ApiEvent, RetryPolicy } from '../http';
import { ApiUsageCounter } from '../services/tenant-reader';

/**
 * The tenant's API clients, built once and shared by everything in the process: the scan, the
 * planner and the queue workers all send their Exchange calls through one ExchangeClient, so the
 * tenant's small concurrency budget (EXCHANGE_MAX_CONCURRENCY) holds for the whole process.
 */
export interface TenantClients {
  credential: TokenCredential;
  graph: GraphClient;
  exchange: ExchangeClient;
  /** Calls made and throttled answers seen, for progress lines, summaries and the benchmark. */
  usage: ApiUsageCounter;
}

export interface ClientOptions {
  /** Defaults to DefaultAzureCredential: managed identity, AZURE_CLIENT_* variables or an Azure CLI login. */
  credential?: TokenCredential;
  /** Exchange client retries (tests shorten the waits). */
  exchangeRetry?: Partial<RetryPolicy>;
  onApiEvent?: (event: ApiEvent) => void;
}

export function buildTenantClients(settings: Settings, options: ClientOptions = {}): TenantClients {
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
    maxConcurrency: settings.EXCHANGE_MAX_CONCURRENCY,
    onApiEvent: listener,
    ...(options.exchangeRetry ? { retry: options.exchangeRetry } : {}),
  });
  const graph = createGraphClient({ baseUrl: settings.GRAPH_BASE_URL, credential, scope: graphScope(settings), onApiEvent: listener });
  return { credential, graph, exchange, usage };
}
