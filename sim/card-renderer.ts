/**
 * Renders and validates Adaptive Cards with Microsoft's own `adaptivecards` library, so a new user
 * sees roughly what Teams would show, and the tests check cards with the same parser a host uses.
 *
 *   node dist/sim/card-renderer.js card.json [out.html]   (a card or a whole webhook payload)
 *
 * The library is a browser library. Its UMD build is evaluated inside a jsdom window rather than
 * by copying jsdom's globals into Node: a global `window`/`document` would make other packages in
 * the same process (the Azure SDK among them) believe they run in a browser.
 *
 * Development tooling: needs the devDependencies `adaptivecards` and `jsdom`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as AdaptiveCardsModule from 'adaptivecards';
import { JSDOM, VirtualConsole } from 'jsdom';
import { escapeHtml, TEAMS_MESSAGE_LIMIT_BYTES, webhookMessageBytes } from './teams-facts';

type AdaptiveCards = typeof AdaptiveCardsModule;

export interface CardIssue {
  /** parse: SerializationContext events; validation: validateProperties(); policy: our own rules for Teams webhooks. */
  source: 'parse' | 'validation' | 'policy';
  /** The library's ValidationEvent name (e.g. UnknownElementType), or our rule's name. */
  event: string;
  message: string;
}

/** Teams renders up to 1.5 from webhooks; 1.6 is reported to fail through Power Automate. */
const MAX_VERSION = { major: 1, minor: 5 };
/** Webhook cards cannot post back: Action.Submit is unsupported and Action.Execute needs a bot. */
const ALLOWED_ACTIONS = new Set(['Action.OpenUrl']);

const PAGE_STYLE = [
  'body{margin:0;padding:24px;background:#f5f5f5;font-family:"Segoe UI",system-ui,sans-serif}',
  '.card-host{max-width:720px;margin:auto;box-shadow:0 1px 4px #0003;border-radius:6px;overflow:hidden}',
  'a.ac-pushButton{text-decoration:none;color:inherit;display:flex;align-items:center;justify-content:center}',
  '.preview-note{max-width:720px;margin:0 auto 12px;color:#616161;font-size:13px}',
].join('');

interface Realm {
  window: JSDOM['window'];
  cards: AdaptiveCards;
  /** Messages the library wrote to its console (it warns rather than throws). */
  console: string[];
}

let realm: Realm | undefined;

function loadRealm(): Realm {
  if (realm) return realm;
  const messages: string[] = [];
  const virtualConsole = new VirtualConsole();
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    virtualConsole.on(level, (...args: unknown[]) => messages.push(args.map(String).join(' ')));
  }
  virtualConsole.on('jsdomError', (error: Error) => messages.push(error.message));
  const dom = new JSDOM('<!doctype html><html><head></head><body></body></html>', {
    runScripts: 'outside-only',
    pretendToBeVisual: true,
    virtualConsole,
  });
  const source = readFileSync(require.resolve('adaptivecards/dist/adaptivecards.js'), 'utf8');
  (dom.window as unknown as { eval(code: string): unknown }).eval(source);
  const cards = (dom.window as unknown as { AdaptiveCards?: AdaptiveCards }).AdaptiveCards;
  if (!cards) throw new Error('The adaptivecards UMD bundle did not define window.AdaptiveCards.');
  // Teams renders a Markdown subset in text; without a processor the library warns on every card.
  cards.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = renderMarkdown(text);
    result.didProcess = true;
  };
  realm = { window: dom.window, cards, console: messages };
  return realm;
}

/**
 * Every problem the adaptivecards library reports while parsing (unknown element types,
 * properties newer than the declared version, bad values) and validating (missing required
 * properties, too many actions), plus the Teams-webhook rules it cannot know: a declared version
 * ≤ 1.5, Action.OpenUrl only with http(s) URLs, and a message under 28 KB.
 */
export function validateCard(card: unknown): CardIssue[] {
  const issues = policyIssues(card);
  const { cards, window } = loadRealm();
  const target = targetVersion(cards, card);
  const context = new cards.SerializationContext(target);
  const parsed = new cards.AdaptiveCard();
  parsed.parse(inRealm(window, card), context);
  for (let index = 0; index < context.eventCount; index += 1) {
    const event = context.getEventAt(index);
    issues.push({ source: 'parse', event: cards.ValidationEvent[event.event] ?? String(event.event), message: event.message });
  }
  for (const event of parsed.validateProperties().validationEvents) {
    issues.push({ source: 'validation', event: cards.ValidationEvent[event.event] ?? String(event.event), message: event.message });
  }
  return issues;
}

/** A standalone HTML page showing the card as the adaptivecards renderer draws it. */
export function renderCardToHtml(card: unknown, options: { title?: string } = {}): string {
  const { cards, window } = loadRealm();
  const adaptiveCard = new cards.AdaptiveCard();
  adaptiveCard.parse(inRealm(window, card), new cards.SerializationContext(targetVersion(cards, card)));
  const element = adaptiveCard.render();
  if (!element) throw new Error('The adaptivecards renderer produced nothing for this card.');
  const host = window.document.createElement('div');
  host.className = 'card-host';
  host.appendChild(element);
  linkOpenUrlButtons(window, adaptiveCard.getAllActions());

  const title = options.title ?? 'Adaptive Card preview';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${readLibraryCss()}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<p class="preview-note">${escapeHtml(title)}: rendered locally by the adaptivecards library; Teams applies its own theme.</p>
${host.outerHTML}
</body>
</html>
`;
}

/** Parses the card in the jsdom realm, so the library's own instanceof/Array checks see native values. */
function inRealm(window: JSDOM['window'], card: unknown): unknown {
  return (window as unknown as { JSON: JSON }).JSON.parse(JSON.stringify(card ?? null));
}

function targetVersion(cards: AdaptiveCards, card: unknown): AdaptiveCardsModule.Version {
  const declared = parseVersion(card);
  if (!declared || compareVersion(declared, MAX_VERSION) > 0) return cards.Versions.v1_5;
  return new cards.Version(declared.major, declared.minor);
}

function parseVersion(card: unknown): { major: number; minor: number } | undefined {
  const version = isRecord(card) ? card.version : undefined;
  const match = typeof version === 'string' ? /^(\d+)\.(\d+)$/.exec(version) : null;
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : undefined;
}

function compareVersion(a: { major: number; minor: number }, b: { major: number; minor: number }): number {
  return a.major - b.major || a.minor - b.minor;
}

function policyIssues(card: unknown): CardIssue[] {
  const issues: CardIssue[] = [];
  if (!isRecord(card) || card.type !== 'AdaptiveCard') {
    issues.push({ source: 'policy', event: 'NotAnAdaptiveCard', message: 'The top level must be {"type":"AdaptiveCard", ...}.' });
    return issues;
  }
  const version = parseVersion(card);
  if (!version) {
    issues.push({ source: 'policy', event: 'MissingVersion', message: 'The card must declare a version such as "1.4".' });
  } else if (compareVersion(version, MAX_VERSION) > 0) {
    const message = `Version ${String(card.version)} is above 1.5, which Teams webhooks do not render reliably.`;
    issues.push({ source: 'policy', event: 'VersionTooNew', message });
  }
  walk(card, '$', (node, path) => {
    const type = node.type;
    if (typeof type === 'string' && type.startsWith('Action.')) {
      if (!ALLOWED_ACTIONS.has(type)) {
        const message = `${path}: ${type} cannot work in a webhook-posted card; use Action.OpenUrl.`;
        issues.push({ source: 'policy', event: 'ActionNotAllowed', message });
      } else if (typeof node.url !== 'string' || !/^https?:\/\//i.test(node.url)) {
        issues.push({ source: 'policy', event: 'UnsafeUrl', message: `${path}: Action.OpenUrl needs an http(s) url.` });
      }
    }
  });
  const bytes = webhookMessageBytes(card);
  if (bytes > TEAMS_MESSAGE_LIMIT_BYTES) {
    const message = `The webhook message is ${bytes} bytes; Teams refuses more than ${TEAMS_MESSAGE_LIMIT_BYTES}.`;
    issues.push({ source: 'policy', event: 'TooLarge', message });
  }
  return issues;
}

function walk(value: unknown, path: string, visit: (node: Record<string, unknown>, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, visit));
  } else if (isRecord(value)) {
    visit(value, path);
    for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`, visit);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A static page runs no script, so the renderer's buttons would do nothing; each Action.OpenUrl
 * button becomes a link that looks the same.
 */
function linkOpenUrlButtons(window: JSDOM['window'], actions: AdaptiveCardsModule.Action[]): void {
  for (const action of actions) {
    const button = action.renderedElement;
    const url = (action as AdaptiveCardsModule.OpenUrlAction).url;
    if (action.getJsonTypeName() !== 'Action.OpenUrl' || !button || !url || !/^https?:\/\//i.test(url)) continue;
    const link = window.document.createElement('a');
    link.setAttribute('href', url);
    link.setAttribute('rel', 'noopener noreferrer');
    link.setAttribute('target', '_blank');
    link.className = button.className;
    link.setAttribute('style', button.getAttribute('style') ?? '');
    link.innerHTML = button.innerHTML;
    button.replaceWith(link);
  }
}

/**
 * The Markdown Teams honours in card text, enough for a faithful preview: backslash escapes,
 * **bold**, _italic_, [links](http…) and line breaks. Everything else is literal, and HTML in
 * the text is always escaped.
 */
export function renderMarkdown(text: string): string {
  const literals: string[] = [];
  const hold = (value: string) => `\uE000${literals.push(value) - 1}\uE001`;
  let out = text.replace(/[\uE000\uE001]/g, '').replace(/\\([!-/:-@[-`{-~])/g, (_match, char: string) => hold(escapeHtml(char)));
  out = escapeHtml(out);
  out = out.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_match, label: string, url: string) =>
    hold(`<a href="${url}" rel="noopener noreferrer" target="_blank">${label}</a>`),
  );
  out = out.replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>');
  out = out.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,;:!?])/g, '$1<em>$2</em>');
  out = out.replace(/\r?\n/g, '<br>');
  // Links are held whole, so a label's own placeholders are restored in a second pass.
  const restore = (value: string) => value.replace(/\uE000(\d+)\uE001/g, (_match, index: string) => literals[Number(index)] ?? '');
  return `<p>${restore(restore(out))}</p>`;
}

function readLibraryCss(): string {
  try {
    const css = readFileSync(join(dirname(require.resolve('adaptivecards/package.json')), 'dist', 'adaptivecards.css'), 'utf8');
    return css.replace(/<\/style/gi, '<\\/style');
  } catch {
    return '';
  }
}

/** A card, or a whole webhook message whose first attachment is the card. */
function cardOf(document: unknown): unknown {
  if (isRecord(document) && document.type === 'message' && Array.isArray(document.attachments)) {
    const first: unknown = document.attachments[0];
    return isRecord(first) ? first.content : undefined;
  }
  return document;
}

function main(argv: string[]): number {
  const [input, output] = argv;
  if (!input) {
    process.stderr.write('usage: node dist/sim/card-renderer.js <card-or-payload.json> [out.html]\n');
    return 2;
  }
  const card = cardOf(JSON.parse(readFileSync(input, 'utf8')) as unknown);
  const issues = validateCard(card);
  for (const issue of issues) process.stderr.write(`${issue.source} ${issue.event}: ${issue.message}\n`);
  const page = renderCardToHtml(card, { title: input });
  if (output) writeFileSync(output, page);
  else process.stdout.write(page);
  return issues.length === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
