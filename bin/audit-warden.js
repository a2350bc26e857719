#!/usr/bin/env node
'use strict';
// Thin launcher: the command line is compiled TypeScript (npm ci runs the build through `prepare`).
require('../dist/shared/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`audit-warden: unexpected failure: ${err && err.message ? err.message : String(err)}\n`); process.exitCode = 70; },
);
