import type { TokenCredential } from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { ServiceError } from '../errors';
import { redactSecrets } from '../errors/redact';
import { describeFailure } from './text';

/**
 * A bearer token for `scope` on every attempt to `origin`, and on nothing else: a next link or
 * redirect elsewhere must not receive it. Written here rather than bearerTokenAuthenticationPolicy
 * because that policy refuses any http:// URL, and the simulated tenant and local servers are
 * http://127.0.0.1. The credential caches; asking it per attempt lets a retry pick up a refresh.
 */
export function tokenPolicy(options: { credential: TokenCredential; scope: string; origin: string }): PipelinePolicy {
  const { credential, scope, origin } = options;
  return {
    name: 'originBearerToken',
    async sendRequest(request, next) {
      if (new URL(request.url).origin !== origin) {
        request.headers.delete('Authorization');
        return next(request);
      }
      let token: string | undefined;
      try {
        token = (await credential.getToken(scope, { abortSignal: request.abortSignal }))?.token;
      } catch (error) {
        throw new ServiceError(redactSecrets(`Could not get a token for ${scope}: ${describeFailure(error)}`), 'identity', undefined, undefined, {
          cause: error,
        });
      }
      if (!token) throw new ServiceError(`The credential returned no token for ${scope}.`, 'identity');
      request.headers.set('Authorization', `Bearer ${token}`);
      return next(request);
    },
  };
}
