import { HttpRequest } from '@azure/functions';
import {
  type ApprovalPrincipal,
  PrincipalError,
  isAllowedApprover,
  parseApprovers,
  parseClientPrincipal,
} from '../../../shared/approval';
import { ValidationError } from '../../../shared/errors';
import { TENANT } from '../../support/fixtures/tenant';

const OID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const GROUP = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const UPN = 'Adele.Vance@Contoso.example';

function principalHeader(claims: Array<{ typ: string; val: string }>, extra: Record<string, unknown> = {}): string {
  return Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims,
      ...extra,
    }),
  ).toString('base64');
}

/** What App Service Authentication sends for an Entra sign-in. */
function easyAuthHeaders(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    'x-ms-client-principal': principalHeader([
      { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
      { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: TENANT },
      { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', val: UPN },
      { typ: 'name', val: 'Adele Vance' },
      { typ: 'groups', val: GROUP.toUpperCase() },
      { typ: 'groups', val: '11111111-2222-3333-4444-555555555555' },
    ]),
    'x-ms-client-principal-id': OID,
    'x-ms-client-principal-name': UPN,
    'x-ms-client-principal-idp': 'aad',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function failure(headers: Parameters<typeof parseClientPrincipal>[0]): PrincipalError {
  try {
    parseClientPrincipal(headers);
  } catch (error) {
    if (error instanceof PrincipalError) return error;
    throw error;
  }
  throw new Error('expected a PrincipalError');
}

describe('parseClientPrincipal', () => {
  it('reads id, UPN, provider, groups and tenant from a real HttpRequest', () => {
    const request = new HttpRequest({ method: 'GET', url: 'https://x.example/api/approvals/r1', headers: easyAuthHeaders() });
    expect(parseClientPrincipal(request.headers)).toEqual<ApprovalPrincipal>({
      id: OID,
      name: UPN.toLowerCase(),
      idp: 'aad',
      groups: [GROUP, '11111111-2222-3333-4444-555555555555'],
      groupsOverage: false,
      tenantId: TENANT,
    });
  });

  it('reads a Node-style header record, whatever the header case', () => {
    const upper = Object.fromEntries(Object.entries(easyAuthHeaders()).map(([name, value]) => [name.toUpperCase(), value]));
    expect(parseClientPrincipal(upper).id).toBe(OID);
  });

  it('answers 401 (missing) without any authentication headers', () => {
    const error = failure({});
    expect(error.reason).toBe('missing');
    expect(error.statusCode).toBe(401);
  });

  it.each(['x-ms-client-principal', 'x-ms-client-principal-id', 'x-ms-client-principal-name', 'x-ms-client-principal-idp'])(
    'answers 401 (missing) without %s',
    (name) => {
      const error = failure(easyAuthHeaders({ [name]: undefined }));
      expect(error.reason).toBe('missing');
      expect(error.message).toContain(name);
    },
  );

  it.each([
    ['not base64', '%%%not-base64%%%'],
    ['base64 of text', Buffer.from('hello, world').toString('base64')],
    ['base64 of the wrong JSON', Buffer.from(JSON.stringify({ claims: 'all' })).toString('base64')],
    ['base64 of invalid UTF-8', Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64')],
    ['truncated base64', principalHeader([]).slice(0, -3)],
    ['a huge header', 'A'.repeat(40_000)],
  ])('answers 401 (malformed) for a garbled x-ms-client-principal (%s)', (_name, value) => {
    const error = failure(easyAuthHeaders({ 'x-ms-client-principal': value }));
    expect(error.reason).toBe('malformed');
    expect(error.message).not.toContain(value.slice(0, 20));
  });

  it('refuses a forged -id that disagrees with the signed-in object id', () => {
    expect(failure(easyAuthHeaders({ 'x-ms-client-principal-id': '99999999-9999-9999-9999-999999999999' })).reason).toBe('malformed');
  });

  it('refuses a forged -name that disagrees with the UPN claim', () => {
    expect(failure(easyAuthHeaders({ 'x-ms-client-principal-name': 'ceo@contoso.example' })).reason).toBe('malformed');
  });

  it('refuses repeated identity headers', () => {
    expect(failure({ ...easyAuthHeaders(), 'x-ms-client-principal-id': [OID, OID] }).reason).toBe('malformed');
    // fetch's Headers joins repeats with ", ".
    const joined = new Headers(easyAuthHeaders());
    joined.append('x-ms-client-principal-name', 'ceo@contoso.example');
    expect(failure(joined).reason).toBe('malformed');
  });

  it('accepts only Microsoft Entra sign-ins by default', () => {
    expect(failure(easyAuthHeaders({ 'x-ms-client-principal-idp': 'google' })).reason).toBe('identity-provider');
    expect(parseClientPrincipal(easyAuthHeaders({ 'x-ms-client-principal-idp': 'google' }), { allowedIdentityProviders: ['google'] }).idp).toBe(
      'google',
    );
  });

  it('flags group overage, so group-based approval fails closed with a reason', () => {
    const headers = easyAuthHeaders({
      'x-ms-client-principal': principalHeader([
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID },
        { typ: '_claim_names', val: '{"groups":"src1"}' },
      ]),
    });
    const principal = parseClientPrincipal(headers);
    expect(principal.groups).toEqual([]);
    expect(principal.groupsOverage).toBe(true);
  });
});

describe('APPROVERS', () => {
  const principal: ApprovalPrincipal = {
    id: OID,
    name: UPN.toLowerCase(),
    idp: 'aad',
    groups: [GROUP],
    groupsOverage: false,
  };

  it('matches a UPN case-insensitively', () => {
    expect(isAllowedApprover(principal, 'someone@contoso.example, ADELE.VANCE@contoso.EXAMPLE')).toBe(true);
  });

  it('matches a group object id from the groups claims', () => {
    expect(isAllowedApprover(principal, `someone@contoso.example;${GROUP.toUpperCase()}`)).toBe(true);
  });

  it("matches the principal's own object id", () => {
    expect(isAllowedApprover(principal, OID)).toBe(true);
  });

  it('refuses everyone else, and everyone when the list is empty', () => {
    expect(isAllowedApprover(principal, 'someone@contoso.example,11111111-2222-3333-4444-555555555555')).toBe(false);
    expect(isAllowedApprover({ ...principal, groups: [] }, GROUP)).toBe(false);
    expect(isAllowedApprover(principal, '')).toBe(false);
    expect(isAllowedApprover(principal, undefined)).toBe(false);
  });

  it('does not match a UPN by prefix or a display name', () => {
    expect(isAllowedApprover({ ...principal, name: 'adele.vance@contoso.example.evil' }, UPN)).toBe(false);
  });

  it('refuses an entry that is neither a UPN nor an object id, naming APPROVERS', () => {
    expect(() => parseApprovers('adele, security-team')).toThrow(ValidationError);
    try {
      parseApprovers('adele');
    } catch (error) {
      expect((error as ValidationError).issues.join('\n')).toContain('APPROVERS');
    }
  });
});
