/**
 * Layers (DESIGN.md "Layout"): each folder imports only from the folders below it, so the arrows
 * stay down. One block per layer lists what it must never reach up to. CommonJS, so the test of
 * the rule (test/unit/lint) can load exactly these blocks.
 */
const up = (...groups) => [
  'error',
  { patterns: groups.map((group) => ({ group: group.patterns, message: group.message, allowTypeImports: group.allowTypeImports === true })) },
];
const HOST = { patterns: ['@azure/functions', '**/functions/**'], message: 'shared/ is host-free: the Functions adapters live in functions/.' };
const ENTRY = { patterns: ['**/cli/**', '**/scripts/**', '**/sim/**', '**/test/**'], message: 'Entry points (cli, scripts), the simulator and tests sit above the product.' };
const WEB = { patterns: ['**/web/**', '**/web'], message: 'shared/web serves HTTP; nothing below it imports it.' };
const APP = { patterns: ['**/app/**', '**/app'], message: 'shared/app is the composition root; only entry points (functions, cli, web) import it.' };
const SERVICES = { patterns: ['**/services/**', '**/services'], message: 'Use cases (shared/services) sit above the adapters and the pure core.' };
const ADAPTERS = {
  patterns: [
    '**/store/**', '**/store', '**/queue/**', '**/queue', '**/graph/**', '**/graph', '**/exchange/**', '**/exchange',
    '**/teams/**', '**/teams', '**/http/**', '**/http', '**/tenant/**', '**/tenant',
  ],
  message: 'The pure core (domain, config, rules, lifecycle, remediation) does no I/O: reach adapters through ports in shared/domain.',
  // The shapes of what adapters return may be named; their code may not run here.
  allowTypeImports: true,
};
const PRODUCT_FACTS = {
  patterns: ['**/shared/rules/**', '**/shared/config/**', '**/shared/domain/**', '**/shared/remediation/**'],
  message: "The simulated tenant keeps its own copy of Microsoft's facts: an oracle that imports the product's rules, policy or action lists moves with the product.",
};

const layerRules = [
  { files: ['functions/**/*.ts'], rules: { 'no-restricted-imports': up(ENTRY) } },
  { files: ['shared/cli/**/*.ts'], rules: { 'no-restricted-imports': up(HOST, { patterns: ['**/scripts/**', '**/sim/**', '**/test/**'], message: ENTRY.message }) } },
  { files: ['shared/web/**/*.ts'], rules: { 'no-restricted-imports': up(HOST, ENTRY) } },
  { files: ['shared/app/**/*.ts'], rules: { 'no-restricted-imports': up(HOST, ENTRY, WEB) } },
  { files: ['shared/services/**/*.ts'], rules: { 'no-restricted-imports': up(HOST, ENTRY, WEB, APP) } },
  {
    files: ['shared/{store,queue,graph,exchange,teams,http,approval,tenant}/**/*.ts'],
    rules: { 'no-restricted-imports': up(HOST, ENTRY, WEB, APP, SERVICES) },
  },
  {
    files: ['shared/{domain,config,rules,lifecycle,remediation,errors}/**/*.ts', 'shared/logging.ts', 'shared/text.ts'],
    rules: { 'no-restricted-imports': up(HOST, ENTRY, WEB, APP, SERVICES, ADAPTERS) },
  },
  { files: ['sim/**/*.ts'], rules: { 'no-restricted-imports': up(PRODUCT_FACTS) } },
];

module.exports = { layerRules };
