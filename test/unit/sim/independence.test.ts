import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The simulator's oracle must not share code with the scanner it checks: nothing in sim/ (but the
 * Teams webhook receiver, which is not part of the tenant) may import the product's rules, policy
 * or domain model. Reads every file's import and require lines.
 */
describe('sim/ is independent of the product', () => {
  const simDir = join(__dirname, '..', '..', '..', 'sim');
  const files = readdirSync(simDir).filter((name) => /\.(ts|json)$/.test(name) && name !== 'teams-webhook.ts');

  it('reads the whole directory', () => {
    expect(files).toEqual(expect.arrayContaining(['tenant.ts', 'catalog.ts', 'microsoft-facts.ts', 'pinned-policy.ts', 'exchange-api.ts', 'graph-api.ts', 'mutations.ts']));
  });

  it.each(files)('%s imports nothing from ../shared/rules, ../shared/config or ../shared/domain', (name) => {
    const text = readFileSync(join(simDir, name), 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm),
      ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\b(?:require|import)\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((match) => match[1] as string);
    const forbidden = specifiers.filter((specifier) => /(^|\/)shared\/(rules|config|domain)(\/|$)/.test(specifier));
    expect(forbidden).toEqual([]);
    // Stronger still: the tenant's files import nothing from the product at all.
    expect(specifiers.filter((specifier) => /(^|\/)shared(\/|$)/.test(specifier))).toEqual([]);
  });

  it('would catch such an import (the check itself works)', () => {
    const sample = "import { DEFAULT_POLICY } from '../shared/config/policy';\nimport type { RuleId } from '../shared/domain/finding';";
    const specifiers = [...sample.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]);
    expect(specifiers).toEqual(['../shared/config/policy', '../shared/domain/finding']);
  });
});
