import type { TokenCredential } from '@azure/identity';
import type { AuditPolicy } from '../config/policy';
import type { Settings } from '../config/settings';
import type { ExchangeClient } from '../exchange';
import type { Logger } from '../logging';
import { buildTenantClients, type TenantClients } from './clients';
import type { ScanRecorder } from '../domain/ports';
import { readOnlyRecorder } from '../services/scan-recorder';
import type { TenantReader } from '../services/scan';
import { createTenantReader } from '../services/tenant-reader';

/** Everything a scan needs: the tenant's clients (shared with remediation in one process), a reader and a recorder. */
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
  /** The process's clients (app.ts passes them); built here when absent. */
  clients?: TenantClients;
}

export async function openScanEnvironment(settings: Settings, policy: AuditPolicy, options: EnvironmentOptions): Promise<ScanEnvironment> {
  const { graph, exchange, usage } = options.clients ?? buildTenantClients(settings, options.credential ? { credential: options.credential } : {});
  let recorder = readOnlyRecorder;
  if (options.store) {
    if (!options.openRecorder) throw new Error('storing scans needs a recorder factory');
    recorder = await options.openRecorder(settings, policy, options.logger);
  }
  return { settings, policy, reader: createTenantReader(graph, exchange, usage), recorder, exchange };
}
