/**
 * A subset of Exchange's OPATH -Filter syntax for Get-Mailbox: `Prop -eq 'x'`, -ne, -like,
 * -notlike, joined with -and / -or / -not and parentheses, with $true/$false/$null. Multi-valued
 * properties match when any value matches (PersistedCapabilities -eq 'M365Auditing'), and booleans
 * compare as 'True'/'False' — the form the EXO module rewrites $true/$false into (REFERENCE.md §1.3).
 */

export type OpathValue = string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown };

export class OpathError extends Error {
  override readonly name = 'OpathError';
}

type Token = { kind: 'word'; value: string } | { kind: 'string'; value: string } | { kind: 'paren'; value: '(' | ')' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (/\s/.test(char)) {
      i++;
    } else if (char === '(' || char === ')') {
      tokens.push({ kind: 'paren', value: char });
      i++;
    } else if (char === "'" || char === '"') {
      const end = text.indexOf(char, i + 1);
      if (end < 0) throw new OpathError(`Invalid filter syntax: unterminated string at position ${i}.`);
      tokens.push({ kind: 'string', value: text.slice(i + 1, end) });
      i = end + 1;
    } else {
      const word = /^[^\s()'"]+/.exec(text.slice(i))?.[0] ?? char;
      tokens.push({ kind: 'word', value: word });
      i += word.length;
    }
  }
  return tokens;
}

type Getter<T> = (item: T) => OpathValue | undefined;
type Predicate<T> = (item: T) => boolean;

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'object') return JSON.stringify(value).toLowerCase();
  return (value as string | number).toString().toLowerCase();
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.toLowerCase().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Compiles a filter. `property` resolves a property name to a getter (or undefined when Exchange
 * would not know it); it is called once per clause, not per mailbox.
 */
export function compileOpath<T>(text: string, property: (name: string) => Getter<T> | undefined): Predicate<T> {
  let source = text.trim();
  // Scriptblock syntax ({ ... }) arrives as text over REST; PowerShell accepts both.
  if (source.startsWith('{') && source.endsWith('}')) source = source.slice(1, -1);
  const tokens = tokenize(source);
  let position = 0;
  const peekWord = (): string | undefined => {
    const token = tokens[position];
    return token?.kind === 'word' ? token.value.toLowerCase() : undefined;
  };
  const fail = (detail: string): never => {
    throw new OpathError(`Invalid filter syntax. For a description of the filter parameter syntax see the command help. "${text}" ${detail}`);
  };

  const parseOr = (): Predicate<T> => {
    let left = parseAnd();
    while (peekWord() === '-or') {
      position++;
      const a = left;
      const b = parseAnd();
      left = (item) => a(item) || b(item);
    }
    return left;
  };
  const parseAnd = (): Predicate<T> => {
    let left = parseNot();
    while (peekWord() === '-and') {
      position++;
      const a = left;
      const b = parseNot();
      left = (item) => a(item) && b(item);
    }
    return left;
  };
  const parseNot = (): Predicate<T> => {
    if (peekWord() === '-not') {
      position++;
      const inner = parseNot();
      return (item) => !inner(item);
    }
    return parsePrimary();
  };
  const parsePrimary = (): Predicate<T> => {
    const token = tokens[position];
    if (token?.kind === 'paren' && token.value === '(') {
      position++;
      const inner = parseOr();
      const close = tokens[position++];
      if (close?.kind !== 'paren' || close.value !== ')') fail(`at position ${position}: expected ')'.`);
      return inner;
    }
    if (token?.kind !== 'word') return fail(`at position ${position}.`);
    position++;
    const get = property(token.value);
    if (!get) throw new OpathError(`'${token.value}' is not a recognized filterable property. For a list of filterable properties see the command help.`);
    const operator = peekWord();
    if (operator !== '-eq' && operator !== '-ne' && operator !== '-like' && operator !== '-notlike') return fail(`at position ${position}: expected -eq, -ne, -like or -notlike.`);
    position++;
    const operand = tokens[position++];
    if (!operand || operand.kind === 'paren') return fail(`at position ${position}: expected a value.`);
    const raw = operand.value;
    const literal = operand.kind === 'word' && /^\$(true|false|null)$/i.test(raw) ? raw.slice(1).toLowerCase() : raw.toLowerCase();
    const wantsNull = operand.kind === 'word' && literal === 'null';
    const like = operator === '-like' || operator === '-notlike' ? wildcard(literal) : undefined;
    const matchOne = (value: unknown): boolean => {
      const text = toText(value);
      if (wantsNull) return text === null || text === '';
      if (text === null) return false;
      return like ? like.test(text) : text === literal;
    };
    const matches = (item: T): boolean => {
      const value = get(item);
      if (Array.isArray(value)) return wantsNull ? value.length === 0 : value.some(matchOne);
      return matchOne(value);
    };
    return operator === '-eq' || operator === '-like' ? matches : (item) => !matches(item);
  };

  const predicate = parseOr();
  if (position < tokens.length) fail(`at position ${position}.`);
  return predicate;
}
