import { strictHtmlHeaders } from '../http/html';
import { z } from 'zod';
import { formatZodIssues } from '../config/zod-format';
import type { RuleId } from '../domain/finding';
import { ValidationError } from '../errors';
import { RULE_METADATA } from '../rules/pack';
import { SafeHtml, html, htmlDocument } from './html';
import { type ApprovalDecision, type ApprovalFormTokenFailure, type ApprovalTokenFailure, approvalDecisionSchema } from './links';

/**
 * The pages the approval endpoint answers with. Pure: data in, HTML out, no I/O. Every value is
 * escaped by the `html` template. The pages load nothing from anywhere (no scripts, fonts, images
 * or stylesheets), send no Referer (the URL that opened them carries the link token), and show
 * neither the signing key nor the link token; the token appears once, in the hidden form field
 * the POST needs.
 */

/** Names of the confirmation form's fields. */
export const APPROVAL_FORM_FIELDS = { decision: 'd', linkToken: 't', formToken: 'f', reason: 'reason' } as const;
export const REJECT_REASON_MAX_LENGTH = 500;

/** What one approval request would change, as the confirmation and result pages show it. */
export interface ApprovalChangeView {
  requestId: string;
  ruleId: RuleId;
  /** UPN of the mailbox, or the identity of the org / bypass association. */
  objectUpn: string;
  objectId?: string;
  logonType?: string;
  /** The exact cmdlet call that approval queues, e.g. `Set-MailboxAuditBypassAssociation -Identity 'x' -AuditBypassEnabled $false`. */
  change: string;
  expected?: string;
  actual?: string;
  /** When the link that opened the page stops working. */
  expiresAt: Date;
}

export interface ConfirmationPageInput {
  request: ApprovalChangeView;
  decision: ApprovalDecision;
  /** The signed-in approver, as parsed from the Easy Auth headers. */
  approver: { name: string };
  form: {
    /** Where the form POSTs: the request's path (`approvalPath(requestId)`), without the query. */
    action: string;
    /** The link token, carried into the POST so the decision is checked against the signed link. */
    linkToken: string;
    /** From issueApprovalFormToken, bound to this approver. */
    formToken: string;
  };
}

/** Every outcome the endpoint can answer with besides the confirmation page. */
export type ApprovalResultPage =
  | {
      kind: 'decided';
      request: ApprovalChangeView;
      decision: ApprovalDecision;
      approverName: string;
      decidedAt: Date;
      reason?: string;
    }
  | { kind: 'already-decided'; decision: ApprovalDecision; decidedBy?: string; decidedAt?: Date }
  | { kind: 'expired'; expiredAt?: Date }
  | { kind: 'forbidden'; principalName?: string }
  | { kind: 'invalid-link'; reason?: ApprovalTokenFailure | ApprovalFormTokenFailure }
  | { kind: 'form-expired' }
  | { kind: 'unauthenticated' }
  | { kind: 'not-found' };

export interface RenderedPage {
  status: number;
  html: string;
}

const STYLE = [
  'body{font:15px/1.5 "Segoe UI",system-ui,sans-serif;margin:0;background:#f5f5f5;color:#242424}',
  'main{max-width:720px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px #0002}',
  'h1{font-size:22px;margin:0 0 12px}',
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}',
  'pre{background:#f0f0f0;padding:12px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere}',
  '.note{color:#616161}.critical{color:#c50f1f}.high{color:#bc4b09}',
  'textarea{width:100%;box-sizing:border-box;min-height:5em;font:inherit}',
  'button{font:inherit;padding:8px 20px;border:0;border-radius:4px;color:#fff;cursor:pointer}',
  '.approve{background:#107c10}.reject{background:#c50f1f}',
].join('');

/**
 * Lets the one inline stylesheet (a constant of this file, the only text inserted unescaped)
 * through a CSP that otherwise allows nothing.
 */
export const APPROVAL_PAGE_HEADERS = strictHtmlHeaders(STYLE, "'self'");

/**
 * The page a link opens (GET). It decides nothing: link scanners fetch every GET. Its form POSTs
 * the decision with the anti-forgery token.
 */
export function renderConfirmationPage(input: ConfirmationPageInput): string {
  const { request, decision, approver, form } = input;
  const approving = decision === 'approve';
  const reasonField = approving
    ? ''
    : html`<p><label for="reason"><strong>Reason for rejecting</strong> (recorded with the decision)</label><br>
<textarea id="reason" name="${APPROVAL_FORM_FIELDS.reason}" required maxlength="${REJECT_REASON_MAX_LENGTH}"></textarea></p>`;
  const body = html`<h1>${approving ? 'Approve this change?' : 'Reject this change?'}</h1>
<p class="note">Opening this page changed nothing. Only the button below records a decision.</p>
${changeDetails(request)}
<p>${
    approving
      ? 'Approving queues exactly the command above. It runs once, and the object is re-read afterwards to check the drift is gone.'
      : 'Rejecting changes nothing in the tenant. The finding stays open and your reason is recorded with your name.'
  }</p>
<form method="post" action="${form.action}">
<input type="hidden" name="${APPROVAL_FORM_FIELDS.decision}" value="${decision}">
<input type="hidden" name="${APPROVAL_FORM_FIELDS.linkToken}" value="${form.linkToken}">
<input type="hidden" name="${APPROVAL_FORM_FIELDS.formToken}" value="${form.formToken}">
${reasonField}
<p class="note">Signed in as ${approver.name}. This page's form is valid for a few minutes; the link until ${formatUtc(request.expiresAt)}.</p>
<button type="submit" class="${approving ? 'approve' : 'reject'}">${approving ? 'Approve' : 'Reject'}</button>
</form>`;
  return page(approving ? 'Approve change' : 'Reject change', body);
}

const AFTER_APPROVAL = 'The remediation worker applies it and verifies the result; the channel gets a short follow-up.';
const AFTER_REJECTION = 'Nothing will change in the tenant; the decision is recorded in the drift history.';

const STATUS: Readonly<Record<ApprovalResultPage['kind'], number>> = {
  decided: 200,
  'already-decided': 409,
  expired: 410,
  forbidden: 403,
  'invalid-link': 403,
  'form-expired': 403,
  unauthenticated: 401,
  'not-found': 404,
};

export function renderResultPage(result: ApprovalResultPage): RenderedPage {
  const nothing = html`<p class="note">Nothing was changed.</p>`;
  let title: string;
  let body: SafeHtml;
  let status = STATUS[result.kind];
  switch (result.kind) {
    case 'decided': {
      const approved = result.decision === 'approve';
      title = approved ? 'Approved' : 'Rejected';
      body = html`<h1>${approved ? 'Approved: the change is queued' : 'Rejected'}</h1>
<p>${approved ? 'Approved' : 'Rejected'} by ${result.approverName} at ${formatUtc(result.decidedAt)}.</p>
${changeDetails(result.request)}
${result.reason ? html`<p><strong>Reason:</strong> ${result.reason}</p>` : ''}
<p class="note">${approved ? AFTER_APPROVAL : AFTER_REJECTION}</p>`;
      break;
    }
    case 'already-decided':
      title = 'Already decided';
      body = html`<h1>This request was already decided</h1>
<p>It was ${result.decision === 'approve' ? 'approved' : 'rejected'}${result.decidedBy ? html` by ${result.decidedBy}` : ''}${
        result.decidedAt ? html` at ${formatUtc(result.decidedAt)}` : ''
      }. A request is decided once.</p>${nothing}`;
      break;
    case 'expired':
      title = 'Link expired';
      body = html`<h1>This link has expired</h1>
<p>${result.expiredAt ? html`It stopped working at ${formatUtc(result.expiredAt)}. ` : ''}
If the drift is still there, the next nightly digest offers a new link.</p>${nothing}`;
      break;
    case 'forbidden':
      title = 'Not an approver';
      body = html`<h1>You are not on the approver list</h1>
<p>${result.principalName ? html`${result.principalName} is` : 'You are'} not named in APPROVERS, directly or through a group.
Ask an administrator to add you.</p>${nothing}`;
      break;
    case 'invalid-link':
      if (result.reason === 'malformed') status = 400;
      title = 'Invalid link';
      body = html`<h1>This link is not valid</h1>
<p>It may have been altered, or cut short when it was copied. Open the button in the Teams card again.</p>${nothing}`;
      break;
    case 'form-expired':
      title = 'Page expired';
      body = html`<h1>This page has expired</h1>
<p>The confirmation page is only valid for a few minutes. Open the link from the Teams card again.</p>${nothing}`;
      break;
    case 'unauthenticated':
      title = 'Sign-in required';
      body = html`<h1>Sign-in required</h1><p>Approvals need a Microsoft Entra ID sign-in.</p>${nothing}`;
      break;
    case 'not-found':
      title = 'Not found';
      body = html`<h1>No such approval request</h1>${nothing}`;
      break;
  }
  return { status, html: page(title, body) };
}

/** The decision form as the endpoint receives it (application/x-www-form-urlencoded). */
export interface ApprovalFormSubmission {
  decision: ApprovalDecision;
  linkToken: string;
  formToken: string;
  reason?: string;
}

const formSchema = z
  .object({
    [APPROVAL_FORM_FIELDS.decision]: approvalDecisionSchema,
    [APPROVAL_FORM_FIELDS.linkToken]: z.string().min(1).max(2048),
    [APPROVAL_FORM_FIELDS.formToken]: z.string().min(1).max(2048),
    [APPROVAL_FORM_FIELDS.reason]: z
      .string()
      .max(REJECT_REASON_MAX_LENGTH * 2)
      .optional()
      .transform((value) => normaliseReason(value)),
  })
  .refine((form) => form.d !== 'reject' || form.reason !== undefined, {
    message: 'a rejection needs a reason',
    path: [APPROVAL_FORM_FIELDS.reason],
  })
  .refine((form) => form.reason === undefined || form.reason.length <= REJECT_REASON_MAX_LENGTH, {
    message: `the reason is longer than ${REJECT_REASON_MAX_LENGTH} characters`,
    path: [APPROVAL_FORM_FIELDS.reason],
  });

/** Parses the POSTed form; a field given twice is refused rather than guessed at. */
export function parseApprovalForm(body: string | URLSearchParams): ApprovalFormSubmission {
  const params = typeof body === 'string' ? new URLSearchParams(body) : body;
  const fields: Record<string, string> = {};
  for (const [name, value] of params) {
    if (name in fields) throw new ValidationError('The approval form is not valid.', 'approval form', [`${name}: given more than once`]);
    fields[name] = value;
  }
  const parsed = formSchema.safeParse(fields);
  if (!parsed.success) throw new ValidationError('The approval form is not valid.', 'approval form', formatZodIssues(parsed.error));
  return {
    decision: parsed.data.d,
    linkToken: parsed.data.t,
    formToken: parsed.data.f,
    ...(parsed.data.reason !== undefined ? { reason: parsed.data.reason } : {}),
  };
}

/** Trimmed, control characters (other than line breaks) removed, empty → undefined. */
function normaliseReason(value: string | undefined): string | undefined {
  // eslint-disable-next-line no-control-regex
  const text = value?.replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
  return text ? text : undefined;
}

function changeDetails(request: ApprovalChangeView): SafeHtml {
  const rule = RULE_METADATA[request.ruleId];
  const severityClass = rule.severity === 'critical' || rule.severity === 'high' ? rule.severity : 'note';
  const objectId =
    request.objectId && request.objectId !== request.objectUpn ? html`<br><span class="note">${request.objectId}</span>` : '';
  return html`<dl>
<dt>Rule</dt><dd>${rule.title} <span class="${severityClass}">(${rule.severity})</span><br><span class="note">${request.ruleId}</span></dd>
<dt>Object</dt><dd>${request.objectUpn}${objectId}</dd>
${request.logonType ? html`<dt>Logon type</dt><dd>${request.logonType}</dd>` : ''}
${request.actual !== undefined ? html`<dt>Now</dt><dd>${request.actual}</dd>` : ''}
${request.expected !== undefined ? html`<dt>Expected</dt><dd>${request.expected}</dd>` : ''}
<dt>Request</dt><dd>${request.requestId}</dd>
</dl>
<p><strong>What will change</strong></p>
<pre><code>${request.change}</code></pre>
<p class="note">${rule.why}</p>`;
}

function page(title: string, body: SafeHtml): string {
  return htmlDocument(title, STYLE, body);
}

function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
