import type { TokenCredential } from '@azure/identity';
import type { StorageAccount } from '../config/settings';

/**
 * The identity that signs table and queue requests when the account is given by endpoint URL
 * (connection strings carry their own key or SAS and need none). @azure/identity is loaded only
 * here, so connection-string users (Azurite, the CLI, tests) never pay for it.
 */
export function storageCredential(account: Pick<StorageAccount, 'managedIdentity'> = {}): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof import('@azure/identity');
  const managed = account.managedIdentity;
  if (!managed) return new identity.DefaultAzureCredential();
  return managed.clientId ? new identity.ManagedIdentityCredential({ clientId: managed.clientId }) : new identity.ManagedIdentityCredential();
}

/** The credential for one service of the account: none for a connection string. */
export function credentialFor(endpointOrConnectionString: string, account: Pick<StorageAccount, 'managedIdentity'>): TokenCredential | undefined {
  return isEndpointUrl(endpointOrConnectionString) ? storageCredential(account) : undefined;
}

/** True when the value is a service endpoint URL rather than a connection string. */
export function isEndpointUrl(value: string): boolean {
  return /^https?:\/\/[^;]+$/i.test(value.trim());
}
