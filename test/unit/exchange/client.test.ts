import { ExchangeCommandError, ServiceError } from '../../../shared/errors';
import { ExchangeClient, type ExchangeClientOptions, ExchangeInvokeError } from '../../../shared/exchange';
import { type ApiEvent, QUICK_RETRY_MS } from '../../../shared/http';
import {
  FAKE_TOKEN,
  type Handler,
  type LocalServer,
  fakeCredential,
  rejectionOf,
  sendJson,
  sendText,
  startServer,
  visibleText,
} from '../../support/local-server';
import { TENANT } from '../../support/fixtures/tenant';

const SCOPE = 'https://outlook.office365.com/.default';
const CONCURRENCY_TEXT = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again.';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Harness {
  client: ExchangeClient;
  server: LocalServer;
  sleeps: number[];
  events: ApiEvent[];
}

async function harness(handler: Handler, options: Partial<ExchangeClientOptions> = {}): Promise<Harness> {
  server = await startServer(handler);
  const sleeps: number[] = [];
  const events: ApiEvent[] = [];
  const client = new ExchangeClient({
    baseUrl: server.url,
    tenantId: TENANT,
    credential: fakeCredential(),
    scope: SCOPE,
    maxConcurrency: 4,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onApiEvent: (event) => events.push(event),
    ...options,
  });
  return { client, server, sleeps, events };
}

const ok = (value: unknown[] = [], extra: Record<string, unknown> = {}): Handler => (_req, res) =>
  sendJson(res, 200, { '@odata.context': 'x', value, ...extra });

function exchangeError(message: string, code = 'InternalServerError'): unknown {
  return { error: { code, message: 'An error occurred.', details: [{ message }] } };
}

describe('ExchangeClient request', () => {
  it('POSTs the InvokeCommand envelope with the documented headers', async () => {
    const { client, server } = await harness(ok([{ Guid: 'g1' }]));
    const records = [];
    for await (const record of client.records('Get-Mailbox', { ResultSize: 'Unlimited' }, { select: ['Guid', 'AuditEnabled'] })) {
      records.push(record);
    }

    expect(records).toEqual([{ Guid: 'g1' }]);
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid,AuditEnabled`);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: { ResultSize: 'Unlimited' } },
    });
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.prefer).toBe('odata.maxpagesize=1000');
    expect(request?.headers['x-anchormailbox']).toBe(`APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${TENANT}`);
    expect(request?.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(request?.headers['x-responseformat']).toBeUndefined();
  });

  it('asks the credential for the configured scope', async () => {
    const credential = fakeCredential();
    const { client } = await harness(ok(), { credential });
    await client.invoke('Set-OrganizationConfig', { AuditDisabled: false });
    expect(credential.calls).toEqual([SCOPE]);
  });

  it('sends no Prefer page size for Set-* and returns @adminapi.warnings', async () => {
    const { client, server } = await harness((_req, res) =>
      sendJson(res, 200, { '@adminapi.warnings': ["The command completed successfully but no settings of 'x' have been modified."] }),
    );
    const result = await client.invoke('Set-Mailbox', { Identity: 'x', AuditEnabled: true });
    expect(result).toEqual({ value: [], warnings: ["The command completed successfully but no settings of 'x' have been modified."] });
    expect(server.requests[0]?.headers.prefer).toBeUndefined();
    expect(server.requests[0]?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand`);
  });

  it('accepts an empty 204 answer to a Set-* command', async () => {
    const { client } = await harness((_req, res) => {
      res.writeHead(204);
      res.end();
    });
    await expect(client.invoke('Set-Mailbox', { Identity: 'x', AuditEnabled: true })).resolves.toEqual({ value: [], warnings: [] });
  });

  it('treats @adminapi.errors in a 200 answer as a failure', async () => {
    const { client } = await harness((_req, res) =>
      sendJson(res, 200, {
        value: [],
        '@adminapi.errors': ["ex1|Microsoft.Exchange.Management.Tasks.RecipientTaskException|Auditing of MailItemsAccessed event is only available for users with appropriate license."],
      }),
    );
    const error = await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x' }));
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    expect((error as ExchangeInvokeError).exchangeMessage).toBe(
      'Auditing of MailItemsAccessed event is only available for users with appropriate license.',
    );
    expect((error as ExchangeInvokeError).exceptionType).toBe('Microsoft.Exchange.Management.Tasks.RecipientTaskException');
    expect((error as ExchangeInvokeError).transient).toBe(false);
  });

  it('refuses a cmdlet name that is not Verb-Noun', async () => {
    const { client, server } = await harness(ok());
    await expect(client.invoke('Get-Mailbox; Remove-Mailbox', {})).rejects.toThrow('Not a cmdlet name');
    expect(server.requests).toHaveLength(0);
  });
});

describe('ExchangeClient paging', () => {
  function pagedHandler(pages: number, link: (serverUrl: string, page: number) => string): Handler {
    return (req, res, index) => {
      const page = index + 1;
      const next = page < pages ? { '@odata.nextLink': link(server?.url ?? '', page + 1) } : {};
      sendJson(res, 200, { value: [{ Guid: `g${page}a` }, { Guid: `g${page}b` }], ...next });
    };
  }

  it('POSTs the same body to each @odata.nextLink until there is none', async () => {
    const { client, server: srv } = await harness(
      pagedHandler(3, (url, page) => `${url}/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid&$skiptoken=page${page}%3D%3D`),
    );
    const guids: unknown[] = [];
    for await (const record of client.records('Get-Mailbox', { ResultSize: 'Unlimited' }, { select: ['Guid'] })) guids.push(record);

    expect(guids).toEqual(['g1a', 'g1b', 'g2a', 'g2b', 'g3a', 'g3b'].map((Guid) => ({ Guid })));
    expect(srv.requests.map((request) => request.url)).toEqual([
      `/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid`,
      `/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid&$skiptoken=page2%3D%3D`,
      `/adminapi/beta/${TENANT}/InvokeCommand?$select=Guid&$skiptoken=page3%3D%3D`,
    ]);
    const bodies = srv.requests.map((request) => request.body);
    expect(new Set(bodies).size).toBe(1);
    expect(srv.requests.every((request) => request.method === 'POST')).toBe(true);
    expect(srv.requests.every((request) => request.headers.authorization === `Bearer ${FAKE_TOKEN}`)).toBe(true);
  });

  it('fetches a page only when the caller asks for it', async () => {
    const { client, server: srv } = await harness(pagedHandler(5, (url, page) => `${url}/adminapi/beta/${TENANT}/InvokeCommand?p=${page}`));
    for await (const page of client.pages('Get-Mailbox')) {
      expect(page.value).toHaveLength(2);
      break;
    }
    expect(srv.requests).toHaveLength(1);
  });

  it('reports one call per page', async () => {
    const { client, events } = await harness(pagedHandler(3, (url, page) => `${url}/adminapi/beta/${TENANT}/InvokeCommand?p=${page}`));
    for await (const page of client.pages('Get-Mailbox')) expect(page.warnings).toEqual([]);
    expect(events).toEqual([
      { api: 'exchange', type: 'call', cmdlet: 'Get-Mailbox', status: 200 },
      { api: 'exchange', type: 'call', cmdlet: 'Get-Mailbox', status: 200 },
      { api: 'exchange', type: 'call', cmdlet: 'Get-Mailbox', status: 200 },
    ]);
  });

  it('resolves a relative next link against the current URL', async () => {
    const { client, server: srv } = await harness(pagedHandler(2, () => `InvokeCommand?$skiptoken=2`));
    const records = [];
    for await (const record of client.records('Get-Mailbox')) records.push(record);
    expect(records).toHaveLength(4);
    expect(srv.requests[1]?.url).toBe(`/adminapi/beta/${TENANT}/InvokeCommand?$skiptoken=2`);
  });

  it('refuses a next link on another origin, so the token is not sent there', async () => {
    const { client, server: srv, events } = await harness(pagedHandler(2, () => 'https://attacker.example/steal'));
    const error = await rejectionOf(
      (async () => {
        for await (const _ of client.records('Get-Mailbox')) {
          // drain
        }
      })(),
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toContain('refusing to send the token');
    expect(srv.requests).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'error', cmdlet: 'Get-Mailbox' });
  });

  it('refuses invoke() on a paged answer rather than returning part of it', async () => {
    const { client } = await harness(ok([{ a: 1 }], { '@odata.nextLink': 'http://127.0.0.1/next' }));
    await expect(client.invoke('Get-Mailbox', {})).rejects.toThrow('more than one page');
  });
});

describe('ExchangeClient retry', () => {
  it('honours Retry-After in seconds on 429', async () => {
    const { client, server: srv, sleeps, events } = await harness((req, res, index) =>
      index === 0 ? sendText(res, 429, 'Too many requests', { 'Retry-After': '7' }) : sendJson(res, 200, { value: [] }),
    );
    await client.invoke('Set-Mailbox', { Identity: 'x', AuditEnabled: true });
    expect(sleeps).toEqual([7000]);
    expect(srv.requests).toHaveLength(2);
    expect(srv.requests[0]?.body).toBe(srv.requests[1]?.body);
    expect(srv.requests[0]?.headers['client-request-id']).toBe(srv.requests[1]?.headers['client-request-id']);
    expect(events).toEqual([
      { api: 'exchange', type: 'call', cmdlet: 'Set-Mailbox', status: 429 },
      { api: 'exchange', type: 'throttled', cmdlet: 'Set-Mailbox', status: 429 },
      { api: 'exchange', type: 'retry', cmdlet: 'Set-Mailbox', status: 429, delayMs: 7000, attempt: 1 },
      { api: 'exchange', type: 'call', cmdlet: 'Set-Mailbox', status: 200 },
    ]);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const retryAt = new Date(Date.now() + 30_000).toUTCString();
    const { client, sleeps } = await harness((_req, res, index) =>
      index === 0 ? sendText(res, 429, '', { 'Retry-After': retryAt }) : sendJson(res, 200, {}),
    );
    await client.invoke('Set-Mailbox', { Identity: 'x' });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(27_000);
    expect(sleeps[0]).toBeLessThanOrEqual(30_000);
  });

  it('caps a Retry-After beyond maxDelayMs', async () => {
    const { client, sleeps } = await harness(
      (_req, res, index) => (index === 0 ? sendText(res, 429, '', { 'Retry-After': '3600' }) : sendJson(res, 200, {})),
      { retry: { maxDelayMs: 60_000 } },
    );
    await client.invoke('Set-Mailbox', { Identity: 'x' });
    expect(sleeps).toEqual([60_000]);
  });

  it('backs off exponentially with jitter when there is no Retry-After', async () => {
    const { client, sleeps } = await harness(
      (_req, res, index) => (index < 4 ? sendText(res, 429, 'slow down') : sendJson(res, 200, {})),
      { retry: { baseDelayMs: 1000, maxDelayMs: 5000 }, random: () => 0.5 },
    );
    await client.invoke('Set-Mailbox', { Identity: 'x' });
    // Half of each step is fixed, half is jitter (0.5 here): 1000→750, 2000→1500, 4000→3000, 8000 capped at 5000→3750.
    expect(sleeps).toEqual([750, 1500, 3000, 3750]);
  });

  it('keeps a floor under the jitter', async () => {
    const { client, sleeps } = await harness((_req, res, index) => (index === 0 ? sendText(res, 429, '') : sendJson(res, 200, {})), {
      random: () => 0,
    });
    await client.invoke('Set-Mailbox', { Identity: 'x' });
    expect(sleeps).toEqual([500]);
  });

  it('retries the per-tenant concurrency error in a JSON 500 body', async () => {
    const { client, server: srv, events } = await harness((_req, res, index) =>
      index === 0
        ? sendJson(res, 500, exchangeError(`|Microsoft.Exchange.Admin.OData.Core.ODataServiceException|${CONCURRENCY_TEXT}`))
        : sendJson(res, 200, { value: [{ Guid: 'g' }] }),
    );
    await expect(client.invoke('Get-Mailbox', { Identity: 'x' })).resolves.toEqual({ value: [{ Guid: 'g' }], warnings: [] });
    expect(srv.requests).toHaveLength(2);
    expect(events.filter((event) => event.type === 'throttled')).toEqual([
      { api: 'exchange', type: 'throttled', cmdlet: 'Get-Mailbox', status: 500 },
    ]);
  });

  it('retries the concurrency error as a plain-text 503 body', async () => {
    const { client, server: srv } = await harness((_req, res, index) =>
      index === 0 ? sendText(res, 503, CONCURRENCY_TEXT) : sendJson(res, 200, {}),
    );
    await client.invoke('Set-Mailbox', { Identity: 'x' });
    expect(srv.requests).toHaveLength(2);
  });

  it.each([408, 502, 503, 504])('retries HTTP %d and then succeeds', async (status) => {
    const { client, server: srv } = await harness((_req, res, index) =>
      index < 2 ? sendJson(res, status, exchangeError('try later')) : sendJson(res, 200, { value: [1] }),
    );
    await expect(client.invoke('Get-OrganizationConfig')).resolves.toEqual({ value: [1], warnings: [] });
    expect(srv.requests).toHaveLength(3);
  });

  it('gives up after maxRetries with a transient error', async () => {
    const { client, server: srv, sleeps, events } = await harness(
      (_req, res) => sendJson(res, 503, exchangeError('|System.Exception|Service unavailable')),
      { retry: { maxRetries: 2 } },
    );
    const error = await rejectionOf(client.invoke('Get-OrganizationConfig'));
    expect(error).toBeInstanceOf(ExchangeCommandError);
    expect(error).toMatchObject({ statusCode: 503, transient: true, cmdlet: 'Get-OrganizationConfig' });
    expect((error as Error).message).toContain('gave up after 2 retries');
    expect(srv.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(events.map((event) => event.type)).toEqual(['call', 'retry', 'call', 'retry', 'call', 'error']);
  });

  it('gives up on endless throttling too, reporting each throttled answer', async () => {
    const { client, events } = await harness((_req, res) => sendText(res, 429, '', { 'Retry-After': '1' }), {
      retry: { maxRetries: 3 },
    });
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect(error).toMatchObject({ statusCode: 429, transient: true, throttled: true });
    expect(events.filter((event) => event.type === 'throttled')).toHaveLength(4);
  });

  it.each([400, 403, 404, 409])('does not retry HTTP %d', async (status) => {
    const { client, server: srv, sleeps } = await harness((_req, res) => sendJson(res, status, exchangeError('|Some.Exception|No.')));
    const error = await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x' }));
    expect(error).toMatchObject({ statusCode: status, transient: false });
    expect(srv.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a 500 that is not the concurrency limit', async () => {
    const { client, server: srv } = await harness((_req, res) =>
      sendJson(res, 500, exchangeError('|System.NullReferenceException|Object reference not set to an instance of an object.')),
    );
    await expect(client.invoke('Set-Mailbox', { Identity: 'x' })).rejects.toThrow('Object reference not set');
    expect(srv.requests).toHaveLength(1);
  });

  it('retries a connection failure, then reports it without the token', async () => {
    const { client, server: srv, sleeps } = await harness(ok(), { retry: { maxRetries: 1 } });
    await srv.close();
    server = undefined;
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect(error).toBeInstanceOf(ExchangeCommandError);
    expect((error as Error).message).toMatch(/Could not reach Exchange Online for Get-Mailbox: .*ECONNREFUSED/);
    expect((error as ExchangeCommandError).transient).toBe(true);
    expect(sleeps).toHaveLength(1);
    expect(visibleText(error)).not.toContain(FAKE_TOKEN);
  });

  it('fails fast when nothing listens at the base URL, naming EXCHANGE_BASE_URL, after one quick retry', async () => {
    const { client, server: srv, sleeps, events } = await harness(ok());
    const baseUrl = srv.url;
    await srv.close();
    server = undefined;
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    expect((error as Error).message).toMatch(/Could not reach Exchange Online for Get-Mailbox: .*ECONNREFUSED/);
    expect((error as Error).message).toContain(`Check EXCHANGE_BASE_URL (${baseUrl})`);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', transient: true, throttled: false });
    // The default policy allows six retries with backoff; refused connections get one quick one.
    expect(sleeps).toEqual([QUICK_RETRY_MS]);
    expect(events.map((event) => event.type)).toEqual(['retry', 'error']);
  });

  it('fails fast on a host name that does not resolve', async () => {
    const sleeps: number[] = [];
    const client = new ExchangeClient({
      baseUrl: 'http://audit-warden-no-such-host.invalid',
      tenantId: TENANT,
      credential: fakeCredential(),
      scope: SCOPE,
      maxConcurrency: 1,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect((error as Error).message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect((error as Error).message).toContain('Check EXCHANGE_BASE_URL (http://audit-warden-no-such-host.invalid)');
    expect(sleeps).toEqual([QUICK_RETRY_MS]);
  });

  it('retries an attempt that times out, and says so when every attempt does', async () => {
    const { client, server: srv, sleeps } = await harness(
      (_req, res, index) => {
        if (index === 0 || index >= 2) return; // no answer: the attempt times out
        sendJson(res, 200, { value: [1] });
      },
      { requestTimeoutMs: 100, retry: { maxRetries: 1 } },
    );
    await expect(client.invoke('Get-OrganizationConfig')).resolves.toEqual({ value: [1], warnings: [] });
    expect(srv.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);

    const error = await rejectionOf(client.invoke('Get-OrganizationConfig'));
    expect((error as Error).message).toMatch(/Could not reach Exchange Online for Get-OrganizationConfig: the request timed out .*gave up after 1 retry/);
    expect(error).toMatchObject({ transient: true, code: 'ETIMEDOUT' });
  });
});

describe('ExchangeClient errors', () => {
  it("surfaces an unknown parameter with Exchange's own message, split into id, class and text", async () => {
    const { client } = await harness((_req, res) =>
      sendJson(res, 400, {
        error: {
          code: 'BadRequest',
          message: 'A parameter cannot be found.',
          details: [
            {
              code: 'Context',
              target: '',
              message:
                "ex5E4A5F|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'AuditBogus'.",
            },
          ],
          innererror: { message: 'x', type: 'y' },
        },
      }, { 'request-id': 'req-123' }),
    );
    const error = await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x', AuditBogus: true }));
    expect(error).toBeInstanceOf(ExchangeInvokeError);
    const failure = error as ExchangeInvokeError;
    expect(failure.cmdlet).toBe('Set-Mailbox');
    expect(failure.statusCode).toBe(400);
    expect(failure.code).toBe('ex5E4A5F');
    expect(failure.exceptionType).toBe('System.Management.Automation.ParameterBindingException');
    expect(failure.exchangeMessage).toBe("A parameter cannot be found that matches parameter name 'AuditBogus'.");
    expect(failure.requestId).toBe('req-123');
    expect(failure.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failure.message).toBe(
      "Exchange Online refused Set-Mailbox (HTTP 400, ParameterBindingException): A parameter cannot be found that matches parameter name 'AuditBogus'.",
    );
  });

  it('falls back to innererror.internalException.message, then error.message', async () => {
    const bodies = [
      { error: { code: 'X', message: 'outer', innererror: { internalException: { message: '|A.B.CException|inner text' } } } },
      { error: { code: 'ErrCode', message: 'only the outer message' } },
    ];
    const { client } = await harness((_req, res, index) => sendJson(res, 400, bodies[index]));
    const first = (await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x' }))) as ExchangeInvokeError;
    expect(first.exchangeMessage).toBe('inner text');
    expect(first.exceptionType).toBe('A.B.CException');
    expect(first.code).toBe('X');
    const second = (await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x' }))) as ExchangeInvokeError;
    expect(second.exchangeMessage).toBe('only the outer message');
    expect(second.code).toBe('ErrCode');
  });

  it('reads a plain-text error body', async () => {
    const { client } = await harness((_req, res) =>
      sendText(res, 400, 'The request is invalid.', { 'x-ExceptionType': 'Microsoft.Exchange.Data.DataValidationException' }),
    );
    const error = (await rejectionOf(client.invoke('Set-Mailbox', { Identity: 'x' }))) as ExchangeInvokeError;
    expect(error.exchangeMessage).toBe('The request is invalid.');
    expect(error.exceptionType).toBe('Microsoft.Exchange.Data.DataValidationException');
    expect(error.message).toContain('DataValidationException');
  });

  it('reports malformed JSON in a 200 answer as a ServiceError naming the cmdlet, without retrying', async () => {
    const { client, server: srv } = await harness((_req, res) => sendJson(res, 200, '{"value": [ {"Guid": "g"'));
    const error = await rejectionOf(client.invoke('Get-OrganizationConfig'));
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).service).toBe('exchange');
    expect((error as Error).message).toContain('Get-OrganizationConfig');
    expect((error as Error).message).toContain('not JSON');
    expect(srv.requests).toHaveLength(1);
  });

  it('reports an answer of the wrong shape', async () => {
    const { client } = await harness((_req, res) => sendJson(res, 200, { value: { Guid: 'not a list' } }));
    await expect(client.invoke('Get-OrganizationConfig')).rejects.toThrow(/Get-OrganizationConfig with JSON of an unexpected shape .*value/);
  });

  it('reports an HTML page (e.g. a proxy) as not JSON', async () => {
    const { client } = await harness((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
    });
    await expect(client.invoke('Get-OrganizationConfig')).rejects.toThrow(/not JSON \(HTTP 200, text\/html\): "<html>/);
  });

  it('reports a 401 for the wrong audience clearly, once, without the token', async () => {
    const { client, server: srv, sleeps } = await harness((_req, res) =>
      sendJson(res, 401, { error: { code: 'InvalidAudience', message: 'The audience claim value is invalid.' } }, {
        'WWW-Authenticate': 'Bearer realm="", error="invalid_token", error_description="The audience \'https://graph.microsoft.com\' is invalid"',
      }),
    );
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect(error).toBeInstanceOf(ExchangeCommandError);
    const message = (error as Error).message;
    expect(message).toContain('rejected the access token for Get-Mailbox (HTTP 401)');
    expect(message).toContain('The audience claim value is invalid.');
    expect(message).toContain("invalid_token: The audience 'https://graph.microsoft.com' is invalid");
    expect(message).toContain(SCOPE);
    expect(srv.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(visibleText(error)).not.toContain(FAKE_TOKEN);
  });

  it('scrubs the token even when the server echoes it back', async () => {
    const { client } = await harness((req, res) =>
      sendJson(res, 400, exchangeError(`|X.Y|Header was ${String(req.headers.authorization)}; raw token ${FAKE_TOKEN}`)),
    );
    const error = (await rejectionOf(client.invoke('Get-Mailbox'))) as ExchangeInvokeError;
    expect(visibleText(error)).not.toContain(FAKE_TOKEN);
    expect(error.exchangeMessage).not.toContain(FAKE_TOKEN);
    expect(error.message).toContain('***');
  });

  it('wraps a credential failure as an identity ServiceError and sends nothing', async () => {
    const { client, server: srv } = await harness(ok(), {
      credential: {
        getToken: async () => {
          throw new Error('ManagedIdentityCredential: no managed identity endpoint found');
        },
      },
    });
    const error = await rejectionOf(client.invoke('Get-Mailbox'));
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'identity' });
    expect((error as Error).message).toContain('no managed identity endpoint found');
    expect(srv.requests).toHaveLength(0);
  });

  it('swallows a listener that throws', async () => {
    const { client } = await harness(ok([1]), {
      onApiEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(client.invoke('Get-Mailbox')).resolves.toEqual({ value: [1], warnings: [] });
  });
});

describe('ExchangeClient concurrency', () => {
  it('keeps at most maxConcurrency requests in flight', async () => {
    const { client, server: srv } = await harness(
      (_req, res) => {
        setTimeout(() => sendJson(res, 200, { value: [] }), 25);
      },
      { maxConcurrency: 3 },
    );
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.invoke('Set-Mailbox', { Identity: `m${i}`, AuditEnabled: true })));
    expect(srv.requests).toHaveLength(12);
    expect(srv.maxInFlight).toBe(3);
    expect(client.inFlight).toBe(0);
  });

  it('does not hold a slot while a paging caller is paused, so nested calls cannot deadlock', async () => {
    const { client } = await harness(
      (req, res, index) => {
        const isList = req.body.includes('Get-Mailbox') && !req.body.includes('Identity');
        if (isList) {
          sendJson(res, 200, { value: [{ n: index }], ...(index < 3 ? { '@odata.nextLink': `${server?.url}/adminapi/beta/${TENANT}/InvokeCommand?p=${index}` } : {}) });
        } else {
          sendJson(res, 200, { value: [{ single: true }] });
        }
      },
      { maxConcurrency: 1 },
    );
    let nested = 0;
    for await (const _ of client.records('Get-Mailbox')) {
      await client.invoke('Get-Mailbox', { Identity: 'x' });
      nested += 1;
    }
    expect(nested).toBeGreaterThan(0);
  });

  it('makes only the throttled stream wait: a Retry-After on one does not delay another in flight', async () => {
    const LIST = 'Get-Mailbox';
    const OTHER = 'Get-MailboxAuditBypassAssociation';
    const streamOf = (body: string) => ((JSON.parse(body) as { CmdletInput: { CmdletName: string } }).CmdletInput.CmdletName === LIST ? 'list' : 'other');
    let throttledOnce = false;
    const waiting: number[] = [];
    let wake: () => void = () => undefined;
    const { client, server: srv } = await harness(
      (req, res) => {
        const url = new URL(req.url, 'http://x');
        const page = Number(url.searchParams.get('page') ?? '1');
        const cmdlet = streamOf(req.body);
        if (cmdlet === 'list' && page === 2 && !throttledOnce) {
          throttledOnce = true;
          sendText(res, 429, 'Too many requests', { 'Retry-After': '30' });
          return;
        }
        const next = page < 3 ? { '@odata.nextLink': `${server?.url}/adminapi/beta/${TENANT}/InvokeCommand?page=${page + 1}` } : {};
        sendJson(res, 200, { value: [{ cmdlet, page }], ...next });
      },
      {
        maxConcurrency: 2,
        sleep: (ms) => {
          waiting.push(ms);
          return new Promise<void>((resolve) => (wake = resolve));
        },
      },
    );
    const collect = async (cmdlet: string) => {
      const records: unknown[] = [];
      for await (const record of client.records(cmdlet)) records.push(record);
      return records;
    };

    const throttledStream = collect(LIST);
    while (waiting.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(waiting).toEqual([30_000]);

    // The other stream runs to its end while the throttled one sleeps, and waits for nothing.
    await expect(collect(OTHER)).resolves.toEqual([1, 2, 3].map((page) => ({ cmdlet: 'other', page })));
    expect(waiting).toEqual([30_000]);

    wake();
    await expect(throttledStream).resolves.toEqual([1, 2, 3].map((page) => ({ cmdlet: 'list', page })));
    const order = srv.requests.map((request) => `${streamOf(request.body)}:${new URL(request.url, 'http://x').searchParams.get('page') ?? '1'}`);
    expect(order).toEqual(['list:1', 'list:2', 'other:1', 'other:2', 'other:3', 'list:2', 'list:3']);
  });

  it('frees the slot while waiting to retry', async () => {
    let throttled = false;
    let wake: () => void = () => undefined;
    const { client, server: srv } = await harness(
      (req, res) => {
        if (req.body.includes('"first"') && !throttled) {
          throttled = true;
          sendText(res, 429, '');
        } else {
          sendJson(res, 200, {});
        }
      },
      { maxConcurrency: 1, sleep: () => new Promise<void>((resolve) => (wake = resolve)) },
    );
    const first = client.invoke('Set-Mailbox', { Identity: 'first' });
    while (!throttled || client.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // `first` is now asleep before its retry; the only slot is free for another call.
    await client.invoke('Set-Mailbox', { Identity: 'second' });
    wake();
    await first;
    const identities = srv.requests.map((request) => (JSON.parse(request.body) as { CmdletInput: { Parameters: { Identity: string } } }).CmdletInput.Parameters.Identity);
    expect(identities).toEqual(['first', 'second', 'first']);
  });
});
