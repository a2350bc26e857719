/**
 * The subset of the Adaptive Card schema (≤ 1.5) the builders use. Actions are typed as
 * Action.OpenUrl only: a webhook-posted card cannot post back (Action.Submit is unsupported and
 * Action.Execute needs a bot), so any other action type does not compile.
 */
export type CardVersion = '1.4' | '1.5';
export type Spacing = 'None' | 'Small' | 'Default' | 'Medium' | 'Large' | 'ExtraLarge';
export type TextColor = 'Default' | 'Dark' | 'Light' | 'Accent' | 'Good' | 'Warning' | 'Attention';
export type ContainerStyle = 'default' | 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';

interface ElementBase {
  spacing?: Spacing;
  separator?: boolean;
}

export interface TextBlock extends ElementBase {
  type: 'TextBlock';
  text: string;
  wrap?: boolean;
  size?: 'Small' | 'Default' | 'Medium' | 'Large' | 'ExtraLarge';
  weight?: 'Lighter' | 'Default' | 'Bolder';
  color?: TextColor;
  isSubtle?: boolean;
  fontType?: 'Default' | 'Monospace';
}

export interface Fact {
  title: string;
  value: string;
}

export interface FactSet extends ElementBase {
  type: 'FactSet';
  facts: Fact[];
}

export interface Column {
  type: 'Column';
  width?: 'auto' | 'stretch';
  items: CardElement[];
}

export interface ColumnSet extends ElementBase {
  type: 'ColumnSet';
  columns: Column[];
}

export interface Container extends ElementBase {
  type: 'Container';
  items: CardElement[];
  style?: ContainerStyle;
}

export interface ActionSet extends ElementBase {
  type: 'ActionSet';
  actions: OpenUrlAction[];
}

export type CardElement = TextBlock | FactSet | ColumnSet | Container | ActionSet;

export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
  style?: 'default' | 'positive' | 'destructive';
}

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: CardVersion;
  body: CardElement[];
  actions?: OpenUrlAction[];
  /** Teams-only: use the channel's full width (ignored by other hosts). */
  msteams?: { width: 'Full' };
  /** Shown in notifications and by hosts that cannot render the card. */
  fallbackText?: string;
}

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** The body a Teams Workflows webhook ("When a Teams webhook request is received") accepts. */
export interface TeamsWebhookPayload {
  type: 'message';
  attachments: Array<{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl?: null; content: AdaptiveCard }>;
}
