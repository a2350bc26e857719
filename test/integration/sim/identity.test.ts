import { DefaultAzureCredential } from '@azure/identity';
import { generateTenant, startSimulatedTenant, type SimulatedTenantServer } from '../../../sim';
import { graphGet, invoke, readJson } from '../../support/sim-api';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const EXCHANGE_SCOPE = 'https://outlook.office365.com/.default';

function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('tokens and the managed-identity endpoint', () => {
  const tenant = generateTenant({ seed: 51, mailboxes: 20 });
  let server: SimulatedTenantServer;
  const saved: Record<string, string | undefined> = {};
  const ENV = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_ENDPOINT', 'MSI_SECRET', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_TENANT_ID', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_USERNAME', 'AZURE_TOKEN_CREDENTIALS', 'IDENTITY_SERVER_THUMBPRINT', 'IMDS_ENDPOINT'];

  beforeAll(async () => {
    server = await startSimulatedTenant({ tenant });
    for (const name of ENV) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
    process.env.IDENTITY_ENDPOINT = server.identityEndpoint;
    process.env.IDENTITY_HEADER = server.identityHeader;
  });
  afterAll(async () => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await server.stop();
  });

  it('issues tokens to the real DefaultAzureCredential for Graph and Exchange', async () => {
    const credential = new DefaultAzureCredential();
    server.stats.reset();
    const graph = await credential.getToken(GRAPH_SCOPE);
    const exchange = await credential.getToken(EXCHANGE_SCOPE);
    expect(server.stats.calls.identity).toBe(2);
    expect(claims(graph.token)).toMatchObject({ aud: 'https://graph.microsoft.com', tid: tenant.tenantId });
    expect(claims(exchange.token)).toMatchObject({ aud: 'https://outlook.office365.com', tid: tenant.tenantId });
    expect(graph.expiresOnTimestamp).toBeGreaterThan(Date.now() + 30 * 60_000);

    // The tokens work where they belong...
    const users = await readJson(await fetch(`${server.baseUrl}/v1.0/users?$top=1`, { headers: { authorization: `Bearer ${graph.token}` } }));
    expect(users.status).toBe(200);
    const org = await invoke(server, 'Get-OrganizationConfig', {}, { token: exchange.token });
    expect(org.status).toBe(200);

    // ...and nowhere else: the audience is checked.
    const crossed = await invoke(server, 'Get-OrganizationConfig', {}, { token: graph.token });
    expect(crossed.status).toBe(401);
    expect(crossed.headers.get('www-authenticate')).toContain('Bearer');
    expect(crossed.headers.get('x-ms-diagnostics')).toContain('invalid_resource');
    const wrong = await readJson(await fetch(`${server.baseUrl}/v1.0/users`, { headers: { authorization: `Bearer ${exchange.token}` } }));
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' } });
  });

  it('answers the App Service request shape', async () => {
    const url = `${server.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent('https://graph.microsoft.com/')}`;
    const ok = await readJson(await fetch(url, { headers: { 'X-IDENTITY-HEADER': server.identityHeader } }));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ access_token: expect.any(String), expires_on: expect.stringMatching(/^\d{10}$/), resource: 'https://graph.microsoft.com', token_type: 'Bearer', client_id: expect.any(String) });
    expect(claims(ok.body.access_token as string).aud).toBe('https://graph.microsoft.com');
  });

  it.each([
    ['no X-IDENTITY-HEADER', {}, '2019-08-01', 400],
    ['a wrong X-IDENTITY-HEADER', { 'X-IDENTITY-HEADER': 'guess' }, '2019-08-01', 401],
    ['another api-version', 'valid', '2017-09-01', 400],
  ])('refuses %s', async (_case, headers, apiVersion, status) => {
    const url = `${server.identityEndpoint}?api-version=${apiVersion}&resource=https://graph.microsoft.com`;
    const response = await readJson(await fetch(url, { headers: headers === 'valid' ? { 'X-IDENTITY-HEADER': server.identityHeader } : headers }));
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ statusCode: status, message: expect.any(String), correlationId: expect.any(String) });
  });

  it('refuses missing, malformed, forged, expired and foreign-tenant tokens', async () => {
    const call = async (authorization?: string) =>
      readJson<{ error: { message: string } }>(await fetch(`${server.baseUrl}/v1.0/users`, { headers: authorization ? { authorization } : {} }));
    expect((await call()).body.error.message).toBe('Access token is empty.');
    expect((await call('Bearer not-a-jwt')).body.error.message).toContain('CompactToken parsing failed');
    const good = server.issueToken(GRAPH_SCOPE);
    const [header, payload] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims(good), roles: ['Directory.ReadWrite.All'] })).toString('base64url');
    expect((await call(`Bearer ${header}.${forgedPayload}.${good.split('.')[2]}`)).body.error.message).toBe('Access token validation failure.');
    expect((await call(`Bearer ${header}.${payload}.AAAA`)).status).toBe(401);
    expect((await call(`Bearer ${server.issueToken(GRAPH_SCOPE, { lifetimeSeconds: -60 })}`)).body.error.message).toBe('Lifetime validation failed, the token is expired.');
    expect((await call(`Bearer ${server.issueToken(GRAPH_SCOPE, { tenantId: '00000000-0000-4000-8000-000000000000' })}`)).status).toBe(401);
    expect(server.stats.unauthorized).toBeGreaterThanOrEqual(6);
  });

  it('rejects a token from another simulator run (per-server signing key)', async () => {
    const other = await startSimulatedTenant({ tenant: generateTenant({ seed: 51, mailboxes: 20 }) });
    try {
      const foreign = other.issueToken(GRAPH_SCOPE);
      expect((await graphGet(server, '/users', { authorization: `Bearer ${foreign}` })).status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});
