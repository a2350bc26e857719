import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * A counting semaphore: at most `limit` holders at once, the rest wait in arrival order.
 * Small enough to own rather than add a dependency for.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('A semaphore limit must be a positive integer');
  }

  /** Holders right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Resolves with a release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) {
      this.active += 1;
    } else {
      // The releasing holder hands its slot straight over, so `active` does not change.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }
}

/** Holds a slot of `semaphore` for one attempt's HTTP exchange only, never across a wait or a caller's pause. */
export function concurrencyPolicy(semaphore: Semaphore): PipelinePolicy {
  return { name: 'concurrency', sendRequest: async (request, next) => semaphore.run(() => next(request)) };
}
