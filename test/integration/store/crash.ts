import type { PipelinePolicy } from '../../../shared/store/tables';

/**
 * A pipeline policy that throws (as a dying process would stop) at the nth write request and every
 * one after; `arm` sets n and restarts the count. Table creation is not counted (a store creates
 * its tables once per process).
 */
export function crashAfterWrites(writes: number): { policy: PipelinePolicy; count: () => number; arm: (writes: number) => void } {
  let seen = 0;
  let limit = writes;
  return {
    count: () => seen,
    arm: (next) => {
      seen = 0;
      limit = next;
    },
    policy: {
      name: 'crash-after-writes',
      sendRequest: async (request, next) => {
        const isWrite = request.method !== 'GET' && !/\/Tables(\(|$|\?)/.test(request.url);
        if (isWrite) {
          seen++;
          if (seen > limit) throw new CrashError(`injected crash before write ${seen}`);
        }
        return next(request);
      },
    },
  };
}

export class CrashError extends Error {
  override name = 'CrashError';
}
