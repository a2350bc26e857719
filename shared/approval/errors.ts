import { AuditWardenError } from '../errors';

export type PrincipalFailure =
  /** No App Service authentication headers: the request did not come through Easy Auth. */
  | 'missing'
  /** The headers are there but unreadable or disagree with each other. */
  | 'malformed'
  /** Signed in with a provider approvals do not accept (APPROVERS names Entra users and groups). */
  | 'identity-provider';

/**
 * The caller's identity could not be established. The approval endpoint answers 401 and changes
 * nothing. Messages never repeat header contents: they carry personal data and, when forged,
 * whatever an attacker chose to put there.
 */
export class PrincipalError extends AuditWardenError {
  override readonly name = 'PrincipalError';
  readonly statusCode = 401;
  constructor(
    message: string,
    readonly reason: PrincipalFailure,
  ) {
    super(message);
  }
}

export function isPrincipalError(value: unknown): value is PrincipalError {
  return value instanceof PrincipalError;
}
