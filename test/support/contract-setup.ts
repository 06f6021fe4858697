import { formatViolation, takeContractViolations } from './contract.js';

// Runs in every e2e file (jest.config.mjs setupFilesAfterEnv): a response that the OpenAPI
// document does not declare fails the test during which it was received.
function failOnViolations(when: string): void {
  const found = takeContractViolations();
  if (found.length === 0) return;
  throw new Error(
    `${found.length} response(s) ${when} do not match the OpenAPI document:\n` +
      found.map((v) => `  ${formatViolation(v)}`).join('\n'),
  );
}

afterEach(() => failOnViolations('in this test'));
afterAll(() => failOnViolations('after the last test'));
