/**
 * The text of a value that came from outside (a Table entity's column, a parsed body, a thrown
 * non-Error): primitives as themselves, anything else as JSON, so nothing ever prints as
 * "[object Object]".
 */
export function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value.toString();
  if (typeof value === 'symbol') return value.description ?? 'symbol';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  return JSON.stringify(value) ?? '';
}
