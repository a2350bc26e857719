import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';

// The exact blocks eslint.config.mjs spreads in (CommonJS, so a test can load them).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layerRules } = require('../../../eslint.layers.cjs') as { layerRules: Linter.Config[] };

/**
 * The layer rule, run on fixture text as if it were a file in the tree: an import that points up a
 * layer fails lint, the same kind of import pointing down passes.
 */
function restrictedImports(file: string, source: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const config: Linter.Config[] = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser } }, ...layerRules];
  return linter
    .verify(source, config, { filename: file })
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message);
}

describe('the layer rule keeps imports pointing down', () => {
  it('fails a pure rule that imports an adapter, and says why', () => {
    const messages = restrictedImports('shared/rules/new-rule.ts', "import { FindingRepository } from '../store/findings';\nexport const x = FindingRepository;\n");
    expect(messages).toEqual([expect.stringContaining('The pure core (domain, config, rules, lifecycle, remediation) does no I/O')]);
  });

  it('lets the pure core name an adapter shape as a type only', () => {
    expect(restrictedImports('shared/remediation/new-plan.ts', "import type { SubscribedSku } from '../graph';\nexport type S = SubscribedSku;\n")).toEqual([]);
  });

  it('fails an adapter or a use case that reaches up to the composition root or the web layer', () => {
    expect(restrictedImports('shared/store/new-repo.ts', "import { productionApp } from '../app/app';\nexport const x = productionApp;\n")).toHaveLength(1);
    expect(restrictedImports('shared/services/new-use-case.ts', "import { webRoutes } from '../web/routes';\nexport const x = webRoutes;\n")).toHaveLength(1);
  });

  it('keeps shared/ free of the Functions host', () => {
    expect(restrictedImports('shared/web/new-route.ts', "import { app } from '@azure/functions';\nexport const x = app;\n")).toEqual([
      expect.stringContaining('shared/ is host-free'),
    ]);
  });

  it("keeps the simulator's oracle off the product's facts", () => {
    expect(restrictedImports('sim/new-oracle.ts', "import { DEFAULT_POLICY } from '../shared/config/policy';\nexport const x = DEFAULT_POLICY;\n")).toEqual([
      expect.stringContaining("own copy of Microsoft's facts"),
    ]);
  });

  it('passes the same kind of import pointing down', () => {
    expect(restrictedImports('shared/services/new-use-case.ts', "import { FindingRepository } from '../store/findings';\nexport const x = FindingRepository;\n")).toEqual([]);
  });
});
