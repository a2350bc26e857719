/** Teams' documented limits per webhook per channel. */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

export const TEAMS_WEBHOOK_RATE_LIMITS: readonly RateWindow[] = Object.freeze([
  { limit: 4, windowMs: 1_000 },
  { limit: 60, windowMs: 30_000 },
  { limit: 100, windowMs: 60 * 60_000 },
  { limit: 150, windowMs: 2 * 60 * 60_000 },
  { limit: 1_800, windowMs: 24 * 60 * 60_000 },
]);

/**
 * Client-side limiter over sliding windows. A token bucket would allow a full burst plus a full
 * refill inside one window (up to twice "60 per 30 s"); keeping the send times of the last
 * `limit` requests per window cannot overshoot. Slots are reserved when asked for, so concurrent
 * senders in one process queue behind each other instead of all waking at the same instant.
 *
 * It counts this process only; other instances posting to the same webhook are covered by
 * honouring Teams' 429.
 */
export class WebhookRateLimiter {
  /** Reserved send times, ascending (a reservation is never earlier than the one before it). */
  private readonly stamps: number[] = [];
  private readonly windows: readonly RateWindow[];
  private readonly longestWindowMs: number;

  constructor(
    windows: readonly RateWindow[] = TEAMS_WEBHOOK_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    for (const window of windows) {
      if (!Number.isInteger(window.limit) || window.limit < 1 || !(window.windowMs > 0)) {
        throw new RangeError('A rate window needs a positive integer limit and a positive duration.');
      }
    }
    this.windows = windows;
    this.longestWindowMs = Math.max(0, ...windows.map((window) => window.windowMs));
  }

  /**
   * Reserves the earliest slot that keeps every window under its limit and returns how long to
   * wait for it (0 = now). Returns undefined, reserving nothing, if the wait would exceed `maxWaitMs`.
   */
  reserve(maxWaitMs: number = Number.POSITIVE_INFINITY): number | undefined {
    const now = this.now();
    while (this.stamps.length > 0 && (this.stamps[0] as number) <= now - this.longestWindowMs) this.stamps.shift();
    let at = Math.max(now, this.stamps.at(-1) ?? now);
    for (const { limit, windowMs } of this.windows) {
      // The limit-th most recent send must have left the window before the next one goes out.
      const oldestCounted = this.stamps[this.stamps.length - limit];
      if (oldestCounted !== undefined) at = Math.max(at, oldestCounted + windowMs);
    }
    const wait = at - now;
    if (wait > maxWaitMs) return undefined;
    this.stamps.push(at);
    return wait;
  }
}
