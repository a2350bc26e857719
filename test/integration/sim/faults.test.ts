import { generateTenant, startSimulatedTenant, type SimulatedTenantServer } from '../../../sim';
import { exchangeToken, graphGet, graphToken, invoke, invokeUrl } from '../../support/sim-api';

const CONCURRENCY_TEXT = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again';

describe('fault injection, latency, concurrency and stats', () => {
  const tenant = generateTenant({ seed: 61, mailboxes: 50 });
  let server: SimulatedTenantServer;
  beforeAll(async () => {
    server = await startSimulatedTenant({ tenant });
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => {
    server.faults.clear();
    server.setLatency(0);
    server.setConcurrencyLimit(undefined);
    server.stats.reset();
  });

  const rawExchange = (cmdlet = 'Get-OrganizationConfig'): Promise<Response> =>
    fetch(invokeUrl(server), {
      method: 'POST',
      headers: { authorization: `Bearer ${exchangeToken(server)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: {} } }),
    });
  const rawGraph = (path = '/users?$top=1'): Promise<Response> => fetch(`${server.baseUrl}/v1.0${path}`, { headers: { authorization: `Bearer ${graphToken(server)}` } });

  it('applies a scripted 429 to the next matching Exchange request only', async () => {
    server.faults.enqueue({ api: 'exchange', kind: '429', retryAfterSeconds: 2, cmdlet: 'get-mailbox' });
    expect((await invoke(server, 'Get-OrganizationConfig')).status).toBe(200);
    const throttled = await invoke(server, 'Get-Mailbox', { ResultSize: 1 });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(throttled.body.error?.code).toBe('TooManyRequests');
    expect((await invoke(server, 'Get-Mailbox', { ResultSize: 1 })).status).toBe(200);
    expect(server.faults.pending()).toEqual([]);
    expect(server.stats.snapshot()).toMatchObject({
      calls: { exchange: 3, graph: 0 },
      cmdlets: { 'Get-OrganizationConfig': 1, 'Get-Mailbox': 2 },
      faults: { total: 1, byKind: { '429': 1 } },
    });
  });

  it('serves Graph-shaped throttling and 503s, with and without Retry-After', async () => {
    server.faults.enqueue({ api: 'graph', kind: '429-no-retry-after' }).enqueue({ api: 'graph', kind: '503', retryAfterSeconds: 5, path: '/users' });
    const first = await graphGet<{ error: { code: string; innerError: object } }>(server, '/users');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBeNull();
    expect(first.body.error).toMatchObject({ code: 'TooManyRequests', innerError: expect.any(Object) });
    const second = await graphGet<{ error: { code: string } }>(server, '/users');
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect((await graphGet(server, '/users')).status).toBe(200);
  });

  it('serves bodies a client cannot parse as JSON', async () => {
    server.faults
      .enqueue({ api: 'exchange', kind: '504' })
      .enqueue({ api: 'exchange', kind: 'plain-text-error' })
      .enqueue({ api: 'exchange', kind: 'malformed-json' })
      .enqueue({ api: 'exchange', kind: 'concurrency' });
    const gateway = await rawExchange();
    expect(gateway.status).toBe(504);
    expect(gateway.headers.get('content-type')).toContain('text/html');
    const plain = await rawExchange();
    expect(plain.status).toBe(502);
    expect(plain.headers.get('content-type')).toContain('text/plain');
    const malformed = await rawExchange();
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow();
    const concurrency = await rawExchange();
    expect(concurrency.status).toBe(500);
    expect(await concurrency.text()).toContain(CONCURRENCY_TEXT);
    expect((await rawExchange()).status).toBe(200);
  });

  it('can drop the connection', async () => {
    server.faults.enqueue({ api: 'graph', kind: 'connection-reset' });
    await expect(rawGraph()).rejects.toThrow();
    expect((await rawGraph()).status).toBe(200);
  });

  it('repeats a fault `times` times and refuses nonsense', () => {
    server.faults.enqueue({ api: 'exchange', kind: '503', times: 3 });
    expect(server.faults.pending()).toEqual([{ api: 'exchange', kind: '503', times: 3 }]);
    expect(() => server.faults.enqueue({ api: 'graph', kind: 'concurrency' })).toThrow(RangeError);
    expect(() => server.faults.enqueue({ api: 'graph', kind: '429', times: 0 })).toThrow(RangeError);
  });

  it('adds latency to API responses', async () => {
    server.setLatency(120);
    const started = performance.now();
    expect((await rawGraph()).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('refuses Exchange requests beyond the concurrency limit with the per-tenant error; Graph is unaffected', async () => {
    server.setLatency(150);
    server.setConcurrencyLimit(2);
    const responses = await Promise.all([...Array(5)].map(() => rawExchange()));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses).toEqual([200, 200, 500, 500, 500]);
    const refused = responses.find((response) => response.status === 500)!;
    expect(await refused.text()).toContain(CONCURRENCY_TEXT);
    expect(server.stats.concurrencyRejections).toBe(3);
    expect(server.stats.maxExchangeInFlight).toBe(2);
    const graph = await Promise.all([...Array(4)].map(() => rawGraph()));
    expect(graph.every((response) => response.status === 200)).toBe(true);
  });

  it('draws random faults from the seed: the same seed fails the same requests', async () => {
    const run = async (): Promise<number[]> => {
      const other = await startSimulatedTenant({ tenant: generateTenant({ seed: 62, mailboxes: 5 }), faults: { random: { rate: 0.3, kinds: ['503'] } } });
      try {
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++) statuses.push((await graphGet(other, '/users?$top=1')).status);
        expect(other.stats.faults.total).toBe(statuses.filter((status) => status === 503).length);
        return statuses;
      } finally {
        await other.stop();
      }
    };
    const first = await run();
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(await run()).toEqual(first);
  });
});
