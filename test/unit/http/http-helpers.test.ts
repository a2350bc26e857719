import { type HttpClient, type PipelineRequest, type PipelineResponse, RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { redactSecrets } from '../../../shared/errors/redact';
import {
  QUICK_RETRY_MS,
  Semaphore,
  backoffDelay,
  backoffStrategy,
  concurrencyPolicy,
  createClientPipeline,
  parseRetryAfter,
  resolveRetryPolicy,
  retryAfterStrategy,
  unreachableStrategy,
} from '../../../shared/http';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it.each([
    ['7', 7000],
    ['0', 0],
    [' 2 ', 2000],
    ['1.5', 1500],
    ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
  ])('%j → %d ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([null, undefined, '', 'soon', '-5'])('%p → undefined', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const policy = resolveRetryPolicy({ baseDelayMs: 1000, maxDelayMs: 10_000 });

  it('doubles per retry, half fixed and half jitter, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, () => 0))).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect([1, 2, 3, 4, 5, 6].map((retry) => backoffDelay(retry, policy, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });
});

describe('resolveRetryPolicy', () => {
  it('fills defaults and ignores undefined overrides', () => {
    expect(resolveRetryPolicy({ maxRetries: undefined, baseDelayMs: 10 })).toEqual({ maxRetries: 6, baseDelayMs: 10, maxDelayMs: 120_000 });
  });

  it('refuses negative values', () => {
    expect(() => resolveRetryPolicy({ maxRetries: -1 })).toThrow(RangeError);
  });
});

describe('Semaphore', () => {
  it('admits at most `limit` holders and serves waiters in order', async () => {
    const semaphore = new Semaphore(2);
    const order: string[] = [];
    const a = await semaphore.acquire();
    const b = await semaphore.acquire();
    const c = semaphore.acquire().then((release) => {
      order.push('c');
      return release;
    });
    const d = semaphore.acquire().then((release) => {
      order.push('d');
      return release;
    });
    expect(semaphore.inFlight).toBe(2);
    a();
    a(); // a second release of the same slot is ignored
    const releaseC = await c;
    expect(order).toEqual(['c']);
    b();
    (await d)();
    releaseC();
    expect(order).toEqual(['c', 'd']);
    expect(semaphore.inFlight).toBe(0);
  });

  it('releases when the task throws', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(semaphore.inFlight).toBe(0);
  });

  it('refuses a limit below one', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe('redactSecrets', () => {
  const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.payload.signature';

  it('removes a known secret wherever it appears, longest first', () => {
    expect(redactSecrets(`a ${token} b ${token}`, { known: [token] })).toBe('a *** b ***');
    const url = 'https://prod.example/workflows/abcdef0123456789/invoke';
    expect(redactSecrets(`posting to ${url} failed`, { known: ['/workflows/abcdef0123456789/invoke', url] })).toBe('posting to *** failed');
  });

  it('ignores known values too short to be secrets', () => {
    expect(redactSecrets('the id is abc', { known: ['abc', undefined] })).toBe('the id is abc');
  });

  it('removes any bearer credential, JWT or opaque', () => {
    expect(redactSecrets('Bearer abcdefghijklmnopqrstuvwxyz0123456789')).toBe('Bearer ***');
    expect(redactSecrets('got bearer eyJhbGciOi.x.y back')).toBe('got bearer *** back');
  });

  it('leaves prose about bearer tokens readable', () => {
    expect(redactSecrets('Bearer token is invalid.')).toBe('Bearer token is invalid.');
  });

  it('removes Authorization header values of any scheme, as a header or echoed in JSON', () => {
    expect(redactSecrets('Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789')).toBe('Authorization: Bearer ***');
    expect(redactSecrets('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: Basic ***');
    expect(redactSecrets('{"authorization":"SharedKey acct:c2lnbmF0dXJl"}')).toBe('{"authorization":"SharedKey ***"}');
    expect(redactSecrets('The Authorization header is missing')).toBe('The Authorization header is missing');
  });

  it('removes SAS signatures, in a URL or on their own', () => {
    expect(redactSecrets('https://acct.table.core.windows.net/t?sv=2020&sig=SECRET%2B&se=2026')).toBe(
      'https://acct.table.core.windows.net/t?sv=2020&sig=***&se=2026',
    );
    expect(redactSecrets('(sig=Zm9yZ2Vk)')).toBe('(sig=***)');
  });

  it('removes storage account keys and SAS from connection strings', () => {
    expect(redactSecrets('DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc+/def==;EndpointSuffix=core.windows.net')).toBe(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net',
    );
    expect(redactSecrets('TableEndpoint=https://a/;SharedAccessSignature=sv=1&sig=s3cret')).toBe('TableEndpoint=https://a/;SharedAccessSignature=***');
  });

  it('removes client secrets, tokens and function keys passed in a URL or form body', () => {
    expect(redactSecrets('POST https://login.example/token?client_id=app&client_secret=s3cr3t~value&scope=x')).toBe(
      'POST https://login.example/token?client_id=app&client_secret=***&scope=x',
    );
    expect(redactSecrets('grant_type=client_credentials&client_secret=s3cr3t')).toBe('grant_type=client_credentials&client_secret=***');
    expect(redactSecrets('https://app.azurewebsites.net/api/approve?code=fUnCtIoNkEy==')).toBe('https://app.azurewebsites.net/api/approve?code=***');
    expect(redactSecrets('https://x.example/cb#access_token=abc.def&x=1')).toBe('https://x.example/cb#access_token=***&x=1');
    expect(redactSecrets('https://x.example/cb?x=1&access_token=abc.def')).toBe('https://x.example/cb?x=1&access_token=***');
  });

  it('removes a password in a URL', () => {
    expect(redactSecrets('proxy http://user:hunter2@proxy.example:8080 refused')).toBe('proxy http://user:***@proxy.example:8080 refused');
  });

  it('drops every query string when asked, for text that may echo a signed URL', () => {
    expect(redactSecrets('see https://a.example/p?x=1&sig=abc for details; sig=zzz', { dropQueryStrings: true })).toBe(
      'see https://a.example/p?[query removed] for details; sig=***',
    );
  });
});

describe('retry strategies', () => {
  const response = (status: number, headers: Record<string, string> = {}): PipelineResponse => ({
    status,
    headers: createHttpHeaders(headers),
    request: createPipelineRequest({ url: 'https://x.example/' }),
  });

  it('retryAfterStrategy honours Retry-After on 429 and 503, capped, and skips otherwise', () => {
    const strategy = retryAfterStrategy({ maxDelayMs: 60_000 });
    expect(strategy.retry({ retryCount: 0, response: response(429, { 'Retry-After': '7' }) })).toEqual({ retryAfterInMs: 7_000 });
    expect(strategy.retry({ retryCount: 0, response: response(503, { 'Retry-After': '3600' }) })).toEqual({ retryAfterInMs: 60_000 });
    expect(strategy.retry({ retryCount: 0, response: response(429) })).toEqual({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 0, response: response(429, { 'Retry-After': '-5' }) })).toEqual({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 0, response: response(504, { 'Retry-After': '1' }) })).toEqual({ skipStrategy: true });
  });

  it('retryAfterStrategy reads HTTP dates against the given clock, and can be narrowed', () => {
    const now = Date.parse('2026-06-01T02:00:00Z');
    const dated = response(429, { 'Retry-After': new Date(now + 3_000).toUTCString() });
    expect(retryAfterStrategy({ maxDelayMs: 60_000, now: () => now }).retry({ retryCount: 0, response: dated })).toEqual({ retryAfterInMs: 3_000 });
    expect(retryAfterStrategy({ maxDelayMs: 60_000, applies: () => false }).retry({ retryCount: 0, response: dated })).toEqual({ skipStrategy: true });
  });

  it('backoffStrategy backs off for what it is told to retry', () => {
    const strategy = backoffStrategy(resolveRetryPolicy({ baseDelayMs: 1000 }), () => 0.5, ({ response: answer }) => answer?.status === 503);
    expect(strategy.retry({ retryCount: 2, response: response(503) })).toEqual({ retryAfterInMs: 3_000 });
    expect(strategy.retry({ retryCount: 0, response: response(500) })).toEqual({ skipStrategy: true });
  });

  it('unreachableStrategy retries a refused connection or unknown host once, quickly, then gives up', () => {
    const strategy = unreachableStrategy();
    for (const code of ['ECONNREFUSED', 'ENOTFOUND']) {
      const refused = new RestError(`connect ${code}`, { code });
      expect(strategy.retry({ retryCount: 0, responseError: refused })).toEqual({ retryAfterInMs: QUICK_RETRY_MS });
      expect(strategy.retry({ retryCount: 1, responseError: refused })).toEqual({ errorToThrow: refused });
    }
    expect(strategy.retry({ retryCount: 0, responseError: new RestError('socket hang up', { code: 'ECONNRESET' }) })).toEqual({ skipStrategy: true });
    expect(strategy.retry({ retryCount: 0, response: response(503) })).toEqual({ skipStrategy: true });
  });
});

describe('createClientPipeline', () => {
  /** Answers 429 with Retry-After to the first attempt of `throttled`, 200 to everything else. */
  function scripted(throttled: string): HttpClient & { seen: string[] } {
    const seen: string[] = [];
    return {
      seen,
      async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
        seen.push(request.url);
        const first = seen.filter((url) => url === request.url).length === 1;
        const status = request.url.endsWith(throttled) && first ? 429 : 200;
        return { request, status, headers: createHttpHeaders(status === 429 ? { 'Retry-After': '30' } : {}), bodyAsText: '' };
      },
    };
  }

  it('makes only the throttled request wait; another in flight goes on at once', async () => {
    const httpClient = scripted('/a');
    let wake: () => void = () => undefined;
    const sleeps: number[] = [];
    const send = createClientPipeline({
      strategies: [retryAfterStrategy({ maxDelayMs: 60_000 })],
      maxRetries: 3,
      sleep: (ms) => {
        sleeps.push(ms);
        return new Promise<void>((resolve) => (wake = resolve));
      },
      perAttempt: [concurrencyPolicy(new Semaphore(1))],
      httpClient,
    });
    const a = send(createPipelineRequest({ url: 'https://x.example/a' }));
    while (sleeps.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    // /a sleeps for its Retry-After holding nothing: /b gets the only slot and its answer.
    await expect(send(createPipelineRequest({ url: 'https://x.example/b' }))).resolves.toMatchObject({ status: 200 });
    expect(sleeps).toEqual([30_000]);
    wake();
    await expect(a).resolves.toMatchObject({ status: 200 });
    expect(httpClient.seen).toEqual(['https://x.example/a', 'https://x.example/b', 'https://x.example/a']);
  });

  it('redacts error bodies and the bearer token the request carried', async () => {
    const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.payload.signature';
    const send = createClientPipeline({
      strategies: [],
      maxRetries: 0,
      sleep: async () => undefined,
      httpClient: {
        sendRequest: async (request) => ({
          request,
          status: 400,
          headers: createHttpHeaders(),
          bodyAsText: `you sent ${token} and AccountKey=abc==`,
        }),
      },
    });
    const request = createPipelineRequest({ url: 'https://x.example/', headers: createHttpHeaders({ Authorization: `Bearer ${token}` }) });
    await expect(send(request)).resolves.toMatchObject({ bodyAsText: 'you sent *** and AccountKey=***' });
  });
});
