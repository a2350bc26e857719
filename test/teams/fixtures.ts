import { randomBytes } from 'node:crypto';
import { ApprovalSigningKey, signApprovalLinks } from '../../shared/approval';
import { RULE_IDS, type RuleId } from '../../shared/domain/finding';
import type { DigestApproval, DigestChange, DigestInput } from '../../shared/teams';

export const TENANT_ID = '8f0e3f6a-1d2b-4c5d-9e8f-0a1b2c3d4e5f';
export const PUBLIC_BASE_URL = 'https://audit-warden.contoso.example';
export const SCANNED_AT = new Date('2026-06-01T02:00:00Z');

export function testKey(): ApprovalSigningKey {
  return ApprovalSigningKey.fromBytes(randomBytes(32));
}

export function change(index: number, ruleId: RuleId = RULE_IDS[index % RULE_IDS.length] as RuleId): DigestChange {
  return { ruleId, userPrincipalName: `user${index}@contoso.example`, logonType: index % 2 === 0 ? 'Owner' : undefined };
}

const APPROVAL_RULES: RuleId[] = ['audit-bypass-enabled', 'org-audit-disabled', 'licence-inherited-blocks-mia'];

export function approvals(count: number, key: ApprovalSigningKey, options: { upn?: (index: number) => string } = {}): DigestApproval[] {
  return Array.from({ length: count }, (_, index) => {
    const requestId = `req-${String(index).padStart(6, '0')}`;
    const ruleId = APPROVAL_RULES[index % APPROVAL_RULES.length] as RuleId;
    const objectUpn = options.upn?.(index) ?? `svc-${index}@contoso.example`;
    const links = signApprovalLinks(requestId, key, PUBLIC_BASE_URL, { now: SCANNED_AT });
    return {
      requestId,
      ruleId,
      objectUpn,
      change:
        ruleId === 'org-audit-disabled'
          ? 'Set-OrganizationConfig -AuditDisabled $false'
          : `Set-MailboxAuditBypassAssociation -Identity '${objectUpn}' -AuditBypassEnabled $false`,
      approveUrl: links.approveUrl,
      rejectUrl: links.rejectUrl,
      expiresAt: links.expiresAt,
    };
  });
}

/** A tenant's worst night: every finding new, thousands of approval requests. */
export function hugeDigest(findings: number, approvalCount: number, key: ApprovalSigningKey): DigestInput {
  const opened = Array.from({ length: findings }, (_, index) => change(index));
  const countsByRule: Partial<Record<RuleId, number>> = {};
  for (const item of opened) countsByRule[item.ruleId] = (countsByRule[item.ruleId] ?? 0) + 1;
  return {
    tenantId: TENANT_ID,
    tenantName: 'contoso.onmicrosoft.com',
    scanId: '7990000000000-abc',
    scannedAt: SCANNED_AT,
    countsByRule,
    opened,
    resolved: opened.slice(0, 20_000),
    autoFixed: {
      count: 60_000,
      examples: opened.slice(0, 50).map((item) => ({
        ruleId: item.ruleId,
        objectUpn: item.userPrincipalName,
        change: `Set-Mailbox -Identity '${item.userPrincipalName}' -AuditOwner @{Add='MailItemsAccessed'}`,
      })),
    },
    autoFixFailed: { count: 12, examples: [] },
    approvals: approvals(approvalCount, key),
    ruleErrors: 3,
    dashboardUrl: `${PUBLIC_BASE_URL}/api/drift?tenant=${TENANT_ID}&status=open`,
  };
}

/** Every object in a JSON tree with a `type`, for walking a card. */
export function typesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) typesIn(item, found);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.type === 'string') found.push(record.type);
    for (const child of Object.values(record)) typesIn(child, found);
  }
  return found;
}
