#!/usr/bin/env node
// Sums Jest --json result files into CI's one-line verdict: "N passed, N failed[, N skipped]".
// A missing or unreadable file counts as one failure (a suite that crashed before writing JSON
// must not look green); a run in which no test executed says so and fails.
'use strict';
const fs = require('fs');

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let result;
  try {
    result = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    console.error(`summarize: cannot read ${file}: ${err.message}`);
    failed += 1;
    continue;
  }
  passed += result.numPassedTests || 0;
  failed += (result.numFailedTests || 0) + (result.numRuntimeErrorTestSuites || 0);
  skipped += (result.numPendingTests || 0) + (result.numTodoTests || 0);
}
if (passed + failed + skipped === 0) {
  console.log('no test was executed');
  process.exit(1);
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed ? 1 : 0);
