// Prints "N passed, N failed" from jest's --json reports (several: one line per report, labelled
// with the Node version it ran on, then the total). A suite that could not run (a syntax error,
// a crash in its setup) counts as a failure, so a run that tested nothing never reads as green.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/test-summary.mjs reports/jest.json [more reports...]');
  process.exit(2);
}
let passed = 0;
let failed = 0;
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    console.log(`${file}: no report (${error.message})`);
    failed += 1;
    continue;
  }
  const runPassed = report.numPassedTests;
  const runFailed = report.numFailedTests + report.numRuntimeErrorTestSuites;
  passed += runPassed;
  failed += runFailed;
  if (files.length > 1) console.log(`${file}: ${runPassed} passed, ${runFailed} failed`);
}
console.log(`${passed} passed, ${failed} failed`);
