import type { RetryStrategy } from '@azure/core-rest-pipeline';
import { type RetryPolicy, backoffStrategy, retryAfterStrategy, unreachableStrategy } from '../http';
import { verdictOf } from './answer';

/**
 * How an InvokeCommand request is retried; the first strategy that does not skip decides:
 * 1. nothing answered (connection refused, no such host): one quick retry, then fail fast;
 * 2. 429 or 503 with Retry-After: after the time asked for, capped at maxDelayMs;
 * 3. the per-tenant concurrency limit (in any status, even inside a 2xx), 408, 429 and 502–504,
 *    and a failure mid-request (reset, timeout): exponential backoff with jitter.
 * Anything else (a 400, a 401 for the wrong audience, a plain 500) is answered at once.
 */
export function exchangeRetryStrategies(policy: RetryPolicy, random: () => number): RetryStrategy[] {
  return [
    unreachableStrategy(),
    retryAfterStrategy({ maxDelayMs: policy.maxDelayMs }),
    backoffStrategy(policy, random, ({ response, responseError }) =>
      response ? verdictOf(response.status, response.bodyAsText ?? '').retryable : responseError !== undefined,
    ),
  ];
}
