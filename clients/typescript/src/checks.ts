// What both walks share: one line per check ("ok   name (actual)" or "FAIL name: expected ..., got ..."), the counts,
// and reading a response member that must be there.

/** How many checks passed and failed so far. */
export const results = { passed: 0, failed: 0 };

/** Compares as JSON, prints the line, counts it. */
export function check(name: string, expected: unknown, actual: unknown): void {
  if (JSON.stringify(expected) === JSON.stringify(actual)) {
    results.passed++;
    console.log(`ok   ${name} (${JSON.stringify(actual)})`);
  } else {
    results.failed++;
    console.log(`FAIL ${name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The value, or an exception naming what is missing. */
export function must<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) {
    throw new Error(`${what} is missing`);
  }
  return value;
}
