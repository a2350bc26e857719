import type { AccessToken, TokenCredential } from '@azure/identity';
import { generateTenant, startSimulatedTenant, type GenerateTenantOptions, type SimulatedTenantServer } from '../../sim';

/**
 * Starts a simulated tenant and points this process's managed-identity variables at it, exactly
 * as App Service would: DefaultAzureCredential reads them from process.env.
 */
export async function startTenant(
  options: GenerateTenantOptions,
  server: Omit<Parameters<typeof startSimulatedTenant>[0], 'tenant'> = {},
): Promise<{ sim: SimulatedTenantServer; env: Record<string, string>; credential: TokenCredential }> {
  const sim = await startSimulatedTenant({ tenant: generateTenant(options), ...server });
  process.env.IDENTITY_ENDPOINT = sim.identityEndpoint;
  process.env.IDENTITY_HEADER = sim.identityHeader;
  const env = {
    AZURE_TENANT_ID: sim.tenantId,
    GRAPH_BASE_URL: sim.baseUrl,
    EXCHANGE_BASE_URL: sim.baseUrl,
    IDENTITY_ENDPOINT: sim.identityEndpoint,
    IDENTITY_HEADER: sim.identityHeader,
  };
  return { sim, env, credential: simCredential(sim) };
}

/**
 * A credential that asks this simulated tenant's identity endpoint for every token. In-process
 * tests use it because MSAL caches managed-identity tokens process-wide, and a token from one
 * simulated tenant is (rightly) refused by the next. Child-process tests use the real
 * DefaultAzureCredential.
 */
export function simCredential(sim: SimulatedTenantServer): TokenCredential {
  return {
    async getToken(scopes: string | string[]): Promise<AccessToken> {
      const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
      const resource = scope.replace(/\/\.default$/, '');
      return { token: sim.issueToken(resource), expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}
