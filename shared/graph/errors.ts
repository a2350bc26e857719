import { ServiceError } from '../errors';

/** Microsoft Graph answered with an error, or with a body we cannot read. */
export class GraphRequestError extends ServiceError {
  override readonly name = 'GraphRequestError';
  constructor(
    message: string,
    /** Method and path, e.g. "GET /v1.0/users". */
    readonly operation: string,
    statusCode?: number,
    /** Graph's error.code, e.g. Request_ResourceNotFound. */
    code?: string,
    /** Graph's innerError["request-id"], for Microsoft support. */
    readonly requestId?: string,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, 'graph', statusCode, code, options);
  }
}
