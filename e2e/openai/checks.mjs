// The scripts' shared check runner: each named check passes, or the script prints why and exits 1.
import OpenAI from 'openai';

export class CheckFailed extends Error {}

export function expect(cond, what) {
  if (!cond) throw new CheckFailed(what);
}

/** How many checks passed so far (read at the end for the summary line). */
export const results = { passed: 0 };

export async function check(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
  } catch (e) {
    const why = e instanceof CheckFailed ? e.message
      : e instanceof OpenAI.APIError ? `HTTP ${e.status}: ${e.message}` : (e?.stack || String(e));
    console.error(`FAIL ${name}: ${why}`);
    process.exit(1);
  }
  results.passed++;
  console.log(`ok   ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
}
