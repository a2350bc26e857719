/**
 * The App Service managed-identity endpoint, as @azure/identity 4.13 (through MSAL Node 5) calls
 * it when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
 *
 *   GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<scope without /.default>
 *   X-IDENTITY-HEADER: {IDENTITY_HEADER}
 *
 * plus `client_id` / `mi_res_id` / `object_id` for a user-assigned identity. MSAL sends the
 * resource, not a scope; a trailing "/.default" is tolerated anyway. The answer is
 * {access_token, expires_on (unix seconds, as a string), resource, token_type, client_id}; errors
 * use App Service's {statusCode, message, correlationId} shape.
 */
import { header, type SimRequest, type SimResponse } from './http-types';
import { normaliseResource, type TokenService } from './tokens';

export const APP_SERVICE_API_VERSION = '2019-08-01';

function failure(status: number, message: string, req: SimRequest): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ statusCode: status, message, correlationId: req.requestId }),
  };
}

export function handleIdentity(req: SimRequest, tokens: TokenService, identityHeader: string): SimResponse {
  if (req.method.toUpperCase() !== 'GET') return failure(405, 'Only GET is supported by the managed identity endpoint.', req);
  const secret = header(req.headers, 'x-identity-header');
  if (secret === undefined) return failure(400, 'The X-IDENTITY-HEADER header is required.', req);
  if (secret !== identityHeader) return failure(401, 'The X-IDENTITY-HEADER header value is not valid.', req);
  const apiVersion = req.url.searchParams.get('api-version');
  if (apiVersion !== APP_SERVICE_API_VERSION) {
    return failure(400, `api-version '${apiVersion ?? ''}' is not supported; use ${APP_SERVICE_API_VERSION}.`, req);
  }
  const resource = req.url.searchParams.get('resource');
  if (!resource || normaliseResource(resource) === '') return failure(400, 'The resource query parameter is required.', req);
  const { token, expiresOn } = tokens.issue(resource);
  const body = {
    access_token: token,
    expires_on: String(expiresOn),
    resource: normaliseResource(resource),
    token_type: 'Bearer',
    client_id: req.url.searchParams.get('client_id') ?? tokens.clientId,
  };
  return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}
