import { Semaphore, backoffDelay, parseRetryAfter, redact, resolveRetryPolicy } from '../../shared/http';

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

describe('redact', () => {
  const token = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.payload.signature';

  it('removes a known secret wherever it appears', () => {
    expect(redact(`a ${token} b ${token}`, [token])).toBe('a [redacted] b [redacted]');
  });

  it('removes any long bearer credential', () => {
    expect(redact('Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789', [])).toBe('Authorization: Bearer [redacted]');
  });

  it('leaves prose about bearer tokens readable', () => {
    expect(redact('Bearer token is invalid', [undefined])).toBe('Bearer token is invalid');
  });
});
