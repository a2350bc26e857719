/**
 * Fault injection: a deterministic script ("the next Get-Mailbox call gets a 429") for tests, and
 * an optional random fault rate drawn from the seeded PRNG for soak runs. Only the simulated APIs
 * (Graph, Exchange) fail this way; the managed-identity endpoint never does.
 */
import { streamFor, type Prng } from './prng';

export type FaultApi = 'graph' | 'exchange';

export const FAULT_KINDS = [
  /** 429 with Retry-After and the API's own error body. */
  '429',
  /** 429 without Retry-After: the client must back off on its own. */
  '429-no-retry-after',
  /** 503 with the API's error body (Retry-After only when retryAfterSeconds is given). */
  '503',
  /** 504 from the front end: an HTML body, not JSON. */
  '504',
  /** Exchange's per-tenant concurrency error: HTTP 500, plain-text body (see README). */
  'concurrency',
  /** 200 with a JSON content type and a truncated body. */
  'malformed-json',
  /** 502 with a text/plain body. */
  'plain-text-error',
  /** The socket is destroyed without a response. */
  'connection-reset',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  api: FaultApi;
  kind: FaultKind;
  /** Retry-After for 429 (default 1) and 503 (none unless given). */
  retryAfterSeconds?: number;
  /** Exchange only: match this cmdlet (case-insensitive); any cmdlet when absent. */
  cmdlet?: string;
  /** Graph only: match requests whose path (after /v1.0) starts with this, e.g. "/users". */
  path?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
}

export interface RandomFaults {
  /** Probability in [0, 1] that a request gets a random fault. */
  rate: number;
  /** Kinds to draw from (default: 429, 503, concurrency for Exchange). */
  kinds?: readonly FaultKind[];
  apis?: readonly FaultApi[];
  /** Seed of the fault stream (default: the tenant's seed). */
  seed?: number;
}

export interface InjectedFault {
  kind: FaultKind;
  retryAfterSeconds?: number;
  source: 'script' | 'random';
}

interface QueuedFault extends FaultSpec {
  remaining: number;
}

export class FaultInjector {
  private readonly queue: QueuedFault[] = [];
  private random: (RandomFaults & { prng: Prng }) | undefined;

  constructor(private readonly defaultSeed: number) {}

  /** Appends a fault for the next matching request(s); scripted faults apply in order. */
  enqueue(spec: FaultSpec): this {
    if (!FAULT_KINDS.includes(spec.kind)) throw new RangeError(`Unknown fault kind '${spec.kind}'.`);
    if (spec.kind === 'concurrency' && spec.api !== 'exchange') throw new RangeError('The concurrency fault exists only for Exchange.');
    const times = spec.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer.');
    this.queue.push({ ...spec, remaining: times });
    return this;
  }

  /** Faults still waiting for a matching request. */
  pending(): FaultSpec[] {
    return this.queue.map(({ remaining, ...spec }) => ({ ...spec, times: remaining }));
  }

  clear(): void {
    this.queue.length = 0;
  }

  /** Turns the random fault rate on (rate > 0) or off (undefined or rate 0). */
  setRandom(random: RandomFaults | undefined): void {
    if (random && (!(random.rate >= 0) || random.rate > 1)) throw new RangeError('rate must be between 0 and 1.');
    this.random = random && random.rate > 0 ? { ...random, prng: streamFor(random.seed ?? this.defaultSeed, 'faults') } : undefined;
  }

  /** The fault for this request, if any; consumes one scripted fault. */
  take(api: FaultApi, request: { cmdlet?: string; path?: string }): InjectedFault | undefined {
    const index = this.queue.findIndex(
      (fault) =>
        fault.api === api &&
        (fault.cmdlet === undefined || fault.cmdlet.toLowerCase() === request.cmdlet?.toLowerCase()) &&
        (fault.path === undefined || (request.path ?? '').toLowerCase().startsWith(fault.path.toLowerCase())),
    );
    if (index >= 0) {
      const fault = this.queue[index] as QueuedFault;
      fault.remaining--;
      if (fault.remaining === 0) this.queue.splice(index, 1);
      return { kind: fault.kind, retryAfterSeconds: fault.retryAfterSeconds, source: 'script' };
    }
    const random = this.random;
    if (!random || (random.apis && !random.apis.includes(api))) return undefined;
    if (!random.prng.chance(random.rate)) return undefined;
    const kinds = (random.kinds ?? (api === 'exchange' ? ['429', '503', 'concurrency'] : ['429', '503'])).filter(
      (kind) => kind !== 'concurrency' || api === 'exchange',
    );
    if (kinds.length === 0) return undefined;
    return { kind: random.prng.pick(kinds), source: 'random' };
  }
}
