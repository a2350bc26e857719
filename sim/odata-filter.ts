/**
 * A small OData $filter parser for Graph /users: enough for the licence queries the scanner makes
 * (`assignedLicenses/$count ne 0`, `assignedPlans/any(a:a/servicePlanId eq <guid> and
 * a/capabilityStatus eq 'Enabled')`, `assignedLicenses/any(x:x/skuId eq <guid>)`) plus simple
 * comparisons, `and`/`or`/`not` and startswith/endswith.
 *
 * Like Graph, it is strict about types (a GUID property compares with an unquoted GUID, a string
 * property with a quoted string) and tells which filters are "advanced queries" that need
 * `ConsistencyLevel: eventual` and `$count=true`.
 */

export interface FilterUserView {
  scalar(name: string): string | boolean | null;
  collection(name: string): readonly Record<string, string | null>[];
}

export class FilterError extends Error {
  override readonly name = 'FilterError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Literal = { type: 'string'; value: string } | { type: 'guid'; value: string } | { type: 'number'; value: number } | { type: 'boolean'; value: boolean } | { type: 'null' };

type Token =
  | { kind: 'punct'; value: '(' | ')' | ',' | ':' | '/' }
  | { kind: 'ident'; value: string }
  | { kind: 'literal'; literal: Literal };

export interface CompiledFilter {
  test(user: FilterUserView): boolean;
  /** Properties used in ways Graph only supports as advanced queries (empty for a plain filter). */
  advancedProperties: string[];
}

type PropType = 'string' | 'guid' | 'boolean';

/** User properties the simulator can filter on, with their EDM types. */
const SCALAR_PROPERTIES: Record<string, PropType> = {
  id: 'string',
  userPrincipalName: 'string',
  displayName: 'string',
  mail: 'string',
  mailNickname: 'string',
  givenName: 'string',
  surname: 'string',
  jobTitle: 'string',
  department: 'string',
  usageLocation: 'string',
  userType: 'string',
  accountEnabled: 'boolean',
};

const COLLECTION_PROPERTIES: Record<string, Record<string, PropType>> = {
  assignedLicenses: { skuId: 'guid' },
  assignedPlans: { servicePlanId: 'guid', capabilityStatus: 'string', service: 'string' },
};

/** Lambdas Graph evaluates only as advanced queries (the brief's and Graph's documented pattern). */
const ADVANCED_LAMBDA_COLLECTIONS = new Set(['assignedPlans']);

const COMPARISON_OPERATORS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;

function canonicalName(names: Iterable<string>, wanted: string): string | undefined {
  const lower = wanted.toLowerCase();
  for (const name of names) if (name.toLowerCase() === lower) return name;
  return undefined;
}

function invalidClause(property: string): FilterError {
  return new FilterError('Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${property}' of resource 'User'.`);
}

function syntaxError(detail: string): FilterError {
  return new FilterError('BadRequest', `Invalid filter clause: ${detail}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if ('(),:/'.includes(char)) {
      tokens.push({ kind: 'punct', value: char as '(' | ')' | ',' | ':' | '/' });
      i++;
      continue;
    }
    if (char === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw syntaxError('there is an unterminated string literal.');
        const c = text.charAt(i);
        if (c === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'literal', literal: { type: 'string', value } });
      continue;
    }
    const guid = GUID.exec(text.slice(i));
    if (guid) {
      tokens.push({ kind: 'literal', literal: { type: 'guid', value: guid[0].toLowerCase() } });
      i += guid[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: 'literal', literal: { type: 'number', value: Number(number[0]) } });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_$][A-Za-z0-9_$.]*/.exec(text.slice(i));
    if (ident) {
      const word = ident[0];
      if (word === 'true' || word === 'false') tokens.push({ kind: 'literal', literal: { type: 'boolean', value: word === 'true' } });
      else if (word === 'null') tokens.push({ kind: 'literal', literal: { type: 'null' } });
      else tokens.push({ kind: 'ident', value: word });
      i += word.length;
      continue;
    }
    throw syntaxError(`syntax error at position ${i} in '${text}'.`);
  }
  return tokens;
}

type Predicate<T> = (item: T) => boolean;

interface Scope {
  /** The lambda variable and the collection it ranges over, when inside any(...). */
  variable?: string;
  collection?: string;
}

class Parser {
  private position = 0;
  readonly advanced = new Set<string>();

  constructor(private readonly tokens: Token[]) {}

  parse(): Predicate<FilterUserView> {
    const predicate = this.parseOr<FilterUserView>({});
    if (this.position < this.tokens.length) throw syntaxError(`unexpected '${describe(this.tokens[this.position])}'.`);
    return predicate;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token?.kind === 'ident' && token.value.toLowerCase() === word;
  }

  private expectPunct(value: string): void {
    const token = this.tokens[this.position++];
    if (token?.kind !== 'punct' || token.value !== value) throw syntaxError(`expected '${value}' but found '${describe(token)}'.`);
  }

  private parseOr<T>(scope: Scope): Predicate<T> {
    let left = this.parseAnd<T>(scope);
    while (this.isKeyword('or')) {
      this.position++;
      const a = left;
      const b = this.parseAnd<T>(scope);
      left = (item) => a(item) || b(item);
    }
    return left;
  }

  private parseAnd<T>(scope: Scope): Predicate<T> {
    let left = this.parseUnary<T>(scope);
    while (this.isKeyword('and')) {
      this.position++;
      const a = left;
      const b = this.parseUnary<T>(scope);
      left = (item) => a(item) && b(item);
    }
    return left;
  }

  private parseUnary<T>(scope: Scope): Predicate<T> {
    if (this.isKeyword('not')) {
      this.position++;
      this.advanced.add('not');
      const inner = this.parseUnary<T>(scope);
      return (item) => !inner(item);
    }
    return this.parsePrimary<T>(scope);
  }

  private parsePrimary<T>(scope: Scope): Predicate<T> {
    const token = this.peek();
    if (token?.kind === 'punct' && token.value === '(') {
      this.position++;
      const inner = this.parseOr<T>(scope);
      this.expectPunct(')');
      return inner;
    }
    if (token?.kind !== 'ident') throw syntaxError(`unexpected '${describe(token)}'.`);
    const lower = token.value.toLowerCase();
    const next = this.tokens[this.position + 1];
    if ((lower === 'startswith' || lower === 'endswith') && next?.kind === 'punct' && next.value === '(') {
      return this.parseStringFunction<T>(scope, lower);
    }
    return this.parsePathExpression<T>(scope);
  }

  private parsePath(): string[] {
    const segments: string[] = [];
    for (;;) {
      const token = this.tokens[this.position++];
      if (token?.kind !== 'ident') throw syntaxError(`expected a property name but found '${describe(token)}'.`);
      segments.push(token.value);
      const next = this.peek();
      if (next?.kind === 'punct' && next.value === '/') {
        this.position++;
        continue;
      }
      return segments;
    }
  }

  private parseStringFunction<T>(scope: Scope, name: 'startswith' | 'endswith'): Predicate<T> {
    this.position++;
    this.expectPunct('(');
    const path = this.parsePath();
    this.expectPunct(',');
    const literal = this.parseLiteral();
    this.expectPunct(')');
    if (literal.type !== 'string') throw syntaxError(`${name} needs a string literal.`);
    const operand = this.resolveOperand<T>(scope, path, literal);
    if (name === 'endswith') this.advanced.add(operand.property);
    const wanted = literal.value.toLowerCase();
    return (item) => {
      const value = operand.get(item);
      if (typeof value !== 'string') return false;
      const text = value.toLowerCase();
      return name === 'startswith' ? text.startsWith(wanted) : text.endsWith(wanted);
    };
  }

  private parseLiteral(): Literal {
    const token = this.tokens[this.position++];
    if (token?.kind !== 'literal') throw syntaxError(`expected a literal but found '${describe(token)}'.`);
    return token.literal;
  }

  private parsePathExpression<T>(scope: Scope): Predicate<T> {
    const path = this.parsePath();
    const last = path[path.length - 1]?.toLowerCase();
    const next = this.peek();
    if ((last === 'any' || last === 'all') && next?.kind === 'punct' && next.value === '(') {
      return this.parseLambda(scope, path.slice(0, -1), last) as Predicate<T>;
    }
    const operatorToken = this.tokens[this.position++];
    if (operatorToken?.kind !== 'ident' || !COMPARISON_OPERATORS.has(operatorToken.value.toLowerCase())) {
      throw syntaxError(`expected a comparison operator after '${path.join('/')}' but found '${describe(operatorToken)}'.`);
    }
    const operator = operatorToken.value.toLowerCase();
    const literal = this.parseLiteral();

    if (path.length === 2 && path[1] === '$count' && scope.variable === undefined) {
      const collection = canonicalName(Object.keys(COLLECTION_PROPERTIES), path[0] ?? '');
      if (collection !== 'assignedLicenses') throw invalidClause(path[0] ?? '');
      if (literal.type !== 'number') throw syntaxError('$count compares with a number.');
      this.advanced.add(collection);
      const compare = numberComparison(operator, literal.value);
      return ((user: FilterUserView) => compare(user.collection(collection).length)) as Predicate<T>;
    }

    const operand = this.resolveOperand<T>(scope, path, literal);
    if (operator !== 'eq' && operator !== 'ne') throw invalidClause(operand.property);
    if (operator === 'ne') this.advanced.add(operand.property);
    const expected = literal.type === 'null' ? null : literal.type === 'string' ? literal.value.toLowerCase() : 'value' in literal ? literal.value : null;
    const equals = (item: T): boolean => {
      const value = operand.get(item);
      return typeof value === 'string' && typeof expected === 'string' ? value.toLowerCase() === expected : value === expected;
    };
    return operator === 'eq' ? equals : (item) => !equals(item);
  }

  private resolveOperand<T>(scope: Scope, path: string[], literal: Literal): { property: string; get: (item: T) => string | boolean | null } {
    let type: PropType;
    let property: string;
    let get: (item: T) => string | boolean | null;
    if (scope.variable !== undefined && path[0] === scope.variable) {
      const itemProperties = COLLECTION_PROPERTIES[scope.collection ?? ''] ?? {};
      const name = path.length === 2 ? canonicalName(Object.keys(itemProperties), path[1] ?? '') : undefined;
      if (!name) throw invalidClause(scope.collection ?? path.join('/'));
      type = itemProperties[name] ?? 'string';
      property = scope.collection ?? name;
      get = (item) => (item as Record<string, string | null>)[name] ?? null;
    } else {
      const name = path.length === 1 ? canonicalName(Object.keys(SCALAR_PROPERTIES), path[0] ?? '') : undefined;
      if (!name) throw invalidClause(path.join('/'));
      type = SCALAR_PROPERTIES[name] ?? 'string';
      property = name;
      get = (item) => (item as FilterUserView).scalar(name);
    }
    if (literal.type !== 'null' && literal.type !== type) {
      throw new FilterError(
        'BadRequest',
        `A binary operator with incompatible types was detected. Found operand types '${edmType(type)}' and '${edmType(literal.type)}' for operator kind 'Equal'.`,
      );
    }
    return { property, get };
  }

  private parseLambda(scope: Scope, collectionPath: string[], kind: 'any' | 'all'): Predicate<FilterUserView> {
    if (scope.variable !== undefined || collectionPath.length !== 1) throw syntaxError('nested lambda expressions are not supported.');
    const collection = canonicalName(Object.keys(COLLECTION_PROPERTIES), collectionPath[0] ?? '');
    if (!collection || kind === 'all') throw invalidClause(collectionPath.join('/'));
    if (ADVANCED_LAMBDA_COLLECTIONS.has(collection)) this.advanced.add(collection);
    this.expectPunct('(');
    const next = this.peek();
    if (next?.kind === 'punct' && next.value === ')') {
      this.position++;
      return (user) => user.collection(collection).length > 0;
    }
    const variableToken = this.tokens[this.position++];
    if (variableToken?.kind !== 'ident') throw syntaxError('expected a lambda variable.');
    this.expectPunct(':');
    const body = this.parseOr<Record<string, string | null>>({ variable: variableToken.value, collection });
    this.expectPunct(')');
    return (user) => user.collection(collection).some(body);
  }
}

function numberComparison(operator: string, value: number): (count: number) => boolean {
  switch (operator) {
    case 'eq':
      return (count) => count === value;
    case 'ne':
      return (count) => count !== value;
    case 'gt':
      return (count) => count > value;
    case 'ge':
      return (count) => count >= value;
    case 'lt':
      return (count) => count < value;
    default:
      return (count) => count <= value;
  }
}

function edmType(type: Literal['type'] | PropType): string {
  switch (type) {
    case 'guid':
      return 'Edm.Guid';
    case 'boolean':
      return 'Edm.Boolean';
    case 'number':
      return 'Edm.Int32';
    case 'null':
      return 'null';
    default:
      return 'Edm.String';
  }
}

function describe(token: Token | undefined): string {
  if (!token) return 'end of filter';
  if (token.kind === 'literal') return token.literal.type === 'null' ? 'null' : String('value' in token.literal ? token.literal.value : '');
  return token.value;
}

export function compileFilter(text: string): CompiledFilter {
  const parser = new Parser(tokenize(text));
  const test = parser.parse();
  return { test, advancedProperties: [...parser.advanced] };
}
