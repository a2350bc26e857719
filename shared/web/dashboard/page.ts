import { coverageFigure, formatCoverageCounts, formatCoverageHeadline } from '../../rules/coverage';
import { strictHtmlHeaders } from '../../http/html';
import { html, htmlDocument, SafeHtml } from '../../approval/html';
import { RULE_IDS, SEVERITIES, type RuleId, type Severity } from '../../domain/finding';
import { RULE_METADATA } from '../../rules/pack';
import type { DriftEventView, FindingView, ScanView } from '../../services/history';

/**
 * The dashboard page: data in, one self-contained HTML document out. Server-rendered, so it needs no
 * script at all; it loads nothing (no fonts, images, stylesheets or scripts from anywhere) and its
 * CSP allows only its own inline stylesheet, by hash. Every value from the tenant (UPNs, reasons,
 * actors) goes through the escaping `html` template.
 */

export interface DashboardApproval {
  requestId: string;
  ruleId: RuleId;
  objectUpn: string;
  change: string;
  createdAt: Date;
  expiresAt: Date;
  /** Signed links, when APPROVAL_SIGNING_KEY and PUBLIC_BASE_URL are set. */
  approveUrl?: string;
  rejectUrl?: string;
}

export interface DashboardData {
  tenantId: string;
  generatedAt: Date;
  /** The newest completed scan: its totals are the open findings per rule. */
  lastCompletedScan?: ScanView;
  /** The completed scan before it: the coverage figure's change is measured against it. */
  previousCompletedScan?: ScanView;
  findings: { items: FindingView[]; more: boolean };
  events: { items: DriftEventView[]; more: boolean; days: number };
  scans: ScanView[];
  approvals: DashboardApproval[];
}

const STYLE = [
  'body{font:14px/1.45 "Segoe UI",system-ui,sans-serif;margin:0;background:#f5f5f5;color:#242424}',
  'main{max-width:1200px;margin:24px auto;padding:0 16px}',
  'section{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:16px 20px;margin:0 0 16px}',
  'h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}',
  'table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e0e0e0;vertical-align:top}',
  'th{font-weight:600;background:#fafafa}td.n{text-align:right;font-variant-numeric:tabular-nums}',
  'code{font:12px Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}',
  '.note{color:#616161}.critical{color:#c50f1f;font-weight:600}.high{color:#bc4b09;font-weight:600}.medium{color:#8a6d00}.low{color:#616161}',
  '.cards{display:flex;gap:12px;flex-wrap:wrap}.card{flex:1;min-width:140px;border:1px solid #e0e0e0;border-radius:6px;padding:8px 12px}',
  '.card b{display:block;font-size:22px}',
].join('');

export const DASHBOARD_PAGE_HEADERS = strictHtmlHeaders(STYLE, "'none'");

export function renderDashboard(data: DashboardData): string {
  const body = html`<h1>Mailbox audit drift</h1>
<p class="note">Tenant ${data.tenantId} · generated ${utc(data.generatedAt)}</p>
${overview(data)}
${approvals(data.approvals)}
${findings(data.findings)}
${events(data.events)}
${scans(data.scans)}`;
  return document('Dashboard', body);
}

/** A short page for the dashboard's refusals (401, 403): same headers, no data. */
export function renderDashboardMessage(title: string, message: string): string {
  return document(title, html`<section><h1>${title}</h1><p>${message}</p></section>`);
}

function overview(data: DashboardData): SafeHtml {
  const scan = data.lastCompletedScan;
  if (!scan) {
    return html`<section><h2>Open findings</h2><p>No completed scan yet. Run <code>audit-warden scan</code> or wait for the nightly scan.</p></section>`;
  }
  const counts = scan.findingsByRule;
  const bySeverity = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const ruleId of RULE_IDS) bySeverity[RULE_METADATA[ruleId].severity] += counts[ruleId] ?? 0;
  const rules = RULE_IDS.filter((ruleId) => (counts[ruleId] ?? 0) > 0).sort(
    (a, b) => SEVERITIES.indexOf(RULE_METADATA[a].severity) - SEVERITIES.indexOf(RULE_METADATA[b].severity) || (counts[b] ?? 0) - (counts[a] ?? 0),
  );
  const figure = scan.coverage ? coverageFigure(scan.coverage, data.previousCompletedScan?.coverage) : undefined;
  return html`${
    figure
      ? html`<section><h2>Coverage</h2><p class="${figure.counts['not-recorded'] > 0 ? 'critical' : ''}"><b>${formatCoverageHeadline(figure)}</b></p>
<p class="note">${formatCoverageCounts(figure.counts)}. A mailbox's reads are recorded when org auditing and unified audit log ingestion are on, MailItemsAccessed is audited for its Owner, Delegate and Admin logon types, Exchange applied its licence and its account does not bypass auditing; at risk when they are recorded but the evidence is weakened (kept too briefly, lists frozen, other actions missing).</p></section>`
      : ''
  }<section><h2>Open findings</h2>
<p class="note">As of the last completed scan, started ${utc(new Date(scan.startedAt))}${
    scan.mailboxes !== undefined ? html` (${count(scan.mailboxes)} mailboxes)` : ''
  }.</p>
<div class="cards">${SEVERITIES.map((severity) => html`<div class="card"><span class="${severity}">${severity}</span><b>${count(bySeverity[severity])}</b></div>`)}</div>
${
  rules.length === 0
    ? html`<p>No open drift: every checked setting matches the policy.</p>`
    : html`<table><thead><tr><th>Rule</th><th>Severity</th><th>Open</th></tr></thead><tbody>
${rules.map((ruleId) => html`<tr><td>${RULE_METADATA[ruleId].title}<br><span class="note">${ruleId}</span></td><td class="${RULE_METADATA[ruleId].severity}">${RULE_METADATA[ruleId].severity}</td><td class="n">${count(counts[ruleId] ?? 0)}</td></tr>\n`)}
</tbody></table>`
}</section>`;
}

function approvals(list: DashboardApproval[]): SafeHtml {
  if (list.length === 0) return html``;
  return html`<section><h2>Waiting for approval (${count(list.length)})</h2>
<p class="note">Approve and Reject open a confirmation page; nothing changes until you confirm there.</p>
<table><thead><tr><th>Request</th><th>Rule</th><th>Object</th><th>Will run</th><th>Expires</th><th></th></tr></thead><tbody>
${list.map(
  (request) => html`<tr><td>${request.requestId}</td><td class="${RULE_METADATA[request.ruleId].severity}">${request.ruleId}</td><td>${request.objectUpn}</td><td><code>${request.change}</code></td><td>${utc(request.expiresAt)}</td><td>${
    request.approveUrl && request.rejectUrl
      ? html`<a href="${request.approveUrl}" rel="noreferrer">Approve…</a> · <a href="${request.rejectUrl}" rel="noreferrer">Reject…</a>`
      : html`<span class="note">audit-warden approve ${request.requestId}</span>`
  }</td></tr>\n`,
)}
</tbody></table></section>`;
}

function findings(list: DashboardData['findings']): SafeHtml {
  return html`<section><h2>Open findings, first ${count(list.items.length)}${list.more ? ' (more: GET /api/findings)' : ''}</h2>
${
  list.items.length === 0
    ? html`<p class="note">None.</p>`
    : html`<table><thead><tr><th>Mailbox / object</th><th>Rule</th><th>Severity</th><th>Status</th><th>Expected</th><th>Actual</th><th>First seen</th></tr></thead><tbody>
${list.items.map(
  (finding) => html`<tr><td>${finding.userPrincipalName}${finding.logonType ? html` <span class="note">(${finding.logonType})</span>` : ''}</td><td>${finding.ruleId}</td><td class="${finding.severity}">${finding.severity}</td><td>${finding.status}</td><td>${value(finding.expected)}</td><td>${value(finding.actual)}</td><td>${utc(new Date(finding.firstSeen))}</td></tr>\n`,
)}
</tbody></table>`
}</section>`;
}

function events(list: DashboardData['events']): SafeHtml {
  return html`<section><h2>Drift events, last ${list.days} days${list.more ? ' (newest first; more: GET /api/events)' : ''}</h2>
${
  list.items.length === 0
    ? html`<p class="note">None.</p>`
    : html`<table><thead><tr><th>When</th><th>Event</th><th>Mailbox / object</th><th>Rule</th><th>Who</th><th>Why</th></tr></thead><tbody>
${list.items.map(
  (event) => html`<tr><td>${utc(new Date(event.at))}</td><td>${event.type}</td><td>${event.userPrincipalName}</td><td class="${event.severity}">${event.ruleId}</td><td>${event.actor}</td><td>${event.reason ?? ''}</td></tr>\n`,
)}
</tbody></table>`
}</section>`;
}

function scans(list: ScanView[]): SafeHtml {
  return html`<section><h2>Scan runs</h2>
${
  list.length === 0
    ? html`<p class="note">None yet.</p>`
    : html`<table><thead><tr><th>Started</th><th>Status</th><th>Mailboxes</th><th>New</th><th>Resolved</th><th>Still open</th><th>Duration</th><th>API calls</th></tr></thead><tbody>
${list.map(
  (scan) => html`<tr><td>${utc(new Date(scan.startedAt))}</td><td>${scan.status}${scan.reason ? html`<br><span class="note">${scan.reason}</span>` : ''}</td><td class="n">${optional(scan.mailboxes)}</td><td class="n">${optional(scan.opened)}</td><td class="n">${optional(scan.resolved)}</td><td class="n">${optional(scan.stillOpen)}</td><td class="n">${
    scan.durationMs === undefined ? '' : `${(scan.durationMs / 1000).toFixed(1)} s`
  }</td><td class="n">${optional(scan.apiCalls)}</td></tr>\n`,
)}
</tbody></table>`
}</section>`;
}

function document(title: string, body: SafeHtml): string {
  return htmlDocument(title, STYLE, body);
}

function value(item: FindingView['expected']): string {
  if (Array.isArray(item)) return item.length === 0 ? '(none)' : item.join(', ');
  if (item === null) return '(not set)';
  return String(item);
}

function optional(item: number | undefined): string {
  return item === undefined ? '' : count(item);
}

function count(item: number): string {
  return item.toLocaleString('en-US');
}

function utc(date: Date): string {
  return Number.isNaN(date.getTime()) ? '' : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
