import { randomBytes } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { planRemediation } from '../../shared/services/remediation';
import type { RemediationEnvironment } from '../../shared/app/remediation-environment';
import { principalHeaders, type LocalPrincipal } from '../../scripts/approval-client';
import type { ApprovalRequest } from '../../shared/store/approvals';
import { startHarness, type Harness } from './harness';

/** A fresh signing key per run, as APPROVAL_SIGNING_KEY holds it (base64 of 32 random bytes). */
export const SIGNING_KEY = randomBytes(32).toString('base64');
export const APPROVER_GROUP = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
export const ALICE: LocalPrincipal = { id: '0b8f4a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', name: 'alice@contoso.example' };
/** An approver through a group, not by name. */
export const BOB: LocalPrincipal = { id: '1c9e5b2f-3d4e-4f60-9bac-1d2e3f4a5b6c', name: 'bob@contoso.example', groups: [APPROVER_GROUP] };
/** Signed in, not an approver. */
export const MALLORY: LocalPrincipal = { id: '2daf6c30-4e5f-4071-acbd-2e3f4a5b6c7d', name: 'mallory@contoso.example' };
export const APPROVERS = `alice@contoso.example, ${APPROVER_GROUP}`;
export const PUBLIC_BASE_URL = 'https://audit-warden.contoso.example';

export interface LogLine {
  level: string;
  text: string;
}

/** A real InvocationContext whose every log line is kept (as text, fields included). */
export function capturingContext(functionName: string, sink: LogLine[] = []): { context: InvocationContext; lines: LogLine[] } {
  const context = new InvocationContext({
    invocationId: `test-${functionName}`,
    functionName,
    logHandler: (level, ...args) => sink.push({ level, text: args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ') }),
  });
  return { context, lines: sink };
}

export function requestIdOf(link: string): string {
  return decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');
}

/** A GET of a link, as the Functions host would hand it to the handler (route parameter extracted). */
export function getRequest(link: string, principal?: LocalPrincipal, extraHeaders: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'GET',
    url: link,
    headers: { ...(principal ? principalHeaders(principal) : {}), ...extraHeaders },
    params: { requestId: requestIdOf(link) },
  });
}

export function postRequest(
  requestId: string,
  form: Record<string, string>,
  principal?: LocalPrincipal,
  options: { contentType?: string; headers?: Record<string, string> } = {},
): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: `${PUBLIC_BASE_URL}/api/approvals/${encodeURIComponent(requestId)}`,
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      ...(principal ? principalHeaders(principal) : {}),
      ...options.headers,
    },
    params: { requestId },
    body: { string: new URLSearchParams(form).toString() },
  });
}

/**
 * A simulated tenant with drift that needs approval: org auditing off (approval by default) and
 * mailboxes with auditing off (approval by this policy), planned into pending requests.
 */
export async function approvalFixture(): Promise<{ h: Harness; environment: RemediationEnvironment; requests: ApprovalRequest[] }> {
  const h = await startHarness({ seed: 7, mailboxes: 60, orgAuditDisabled: true }, {
    policy: { modes: { 'mailbox-audit-disabled': 'approval' } },
    settings: { APPROVAL_SIGNING_KEY: SIGNING_KEY, APPROVERS, PUBLIC_BASE_URL },
  });
  await h.scan();
  const environment = h.open();
  const requests: ApprovalRequest[] = [];
  // Only rules whose changes need approval: planning enqueues nothing, so every queue message a
  // test sees came from a decision.
  for (const ruleId of ['org-audit-disabled', 'mailbox-audit-disabled'] as const) {
    requests.push(...(await planRemediation(environment.services, { requestedBy: 'scan:test', ruleId })).approvalRequests);
  }
  return { h, environment, requests };
}

/** Everything a decision would change: the queue, the request, its findings, their drift events. */
export async function observable(h: Harness, request: ApprovalRequest) {
  const stored = await h.open().approvals.get(h.tenantId, request.requestId);
  const findings = (await h.findings('all')).filter((finding) => request.plans.some((plan) => plan.findingKey === finding.key));
  const events = [];
  for (const plan of request.plans) events.push(...(await h.events(plan.objectId)).map((event) => `${event.type}|${event.actor}`));
  return {
    queued: await h.queues.approximateCount('remediations'),
    status: stored?.status,
    decidedBy: stored?.decidedBy,
    findings: findings.map((finding) => `${finding.key}|${finding.status}`).sort(),
    events: events.sort(),
  };
}
