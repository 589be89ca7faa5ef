// Load acceptance: many more concurrent streaming clients than the server admits.
//
//   node openai/overload.mjs BASE_URL MODEL [CLIENTS=200] [MAX_IN_FLIGHT=40] [MAX_429_MS]
//
// Meant for a server started with --max-num-seqs 8 --max-queue 32 (MAX_IN_FLIGHT = 8 + 32). All
// clients start at once with the SDK's retries off. Passes when every client either streamed a
// complete answer (a finish_reason, nothing cut) or got a 429 with Retry-After before the first
// accepted stream completed (a refusal never waits behind generation; MAX_429_MS sets a fixed bound),
// nothing else happened (no 5xx, no broken stream), at least MAX_IN_FLIGHT were served and at
// least one was refused. Prints a summary line; exits 1 with a reason otherwise.
import OpenAI from 'openai';
import { scriptArgs } from './base-url.mjs';

const { baseURL, model, rest: [clientsArg, maxInFlightArg, max429Arg] } = scriptArgs('overload.mjs', 'BASE_URL MODEL [CLIENTS] [MAX_IN_FLIGHT] [MAX_429_MS]');
const CLIENTS = Number(clientsArg ?? 200);
const MAX_IN_FLIGHT = Number(maxInFlightArg ?? 40);
const MAX_429_MS = max429Arg === undefined ? null : Number(max429Arg);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 180_000 });

function header(headers, name) {
  if (!headers) return null;
  return typeof headers.get === 'function' ? headers.get(name) : headers[name] ?? null;
}

let open = 0;
let peakOpen = 0;

async function one(i) {
  const t0 = performance.now();
  let stream;
  try {
    stream = await client.completions.create({
      model, prompt: `Once upon a time ${i % 7 === 0 ? 'there was a dog' : ''}`, max_tokens: 200, temperature: 0.8, seed: i,
      stream: true, stream_options: { include_usage: true },
    });
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof OpenAI.APIError && e.status === 429) {
      return { kind: 'rejected', ms, retryAfter: header(e.headers, 'retry-after') };
    }
    return { kind: 'error', ms, error: e instanceof OpenAI.APIError ? `HTTP ${e.status}: ${e.message}` : String(e) };
  }
  open++;
  peakOpen = Math.max(peakOpen, open);
  let text = '';
  let finish = null;
  let usage = null;
  try {
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.text ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
  } catch (e) {
    return { kind: 'error', ms: performance.now() - t0, error: `stream broke after ${text.length} chars: ${e}` };
  } finally {
    open--;
  }
  const ms = performance.now() - t0;
  if (finish !== 'stop' && finish !== 'length') return { kind: 'error', ms, error: `finish_reason ${finish}` };
  if (!usage || usage.total_tokens !== usage.prompt_tokens + usage.completion_tokens) {
    return { kind: 'error', ms, error: `usage ${JSON.stringify(usage)}` };
  }
  return { kind: 'completed', ms, tokens: usage.completion_tokens };
}

const t0 = performance.now();
const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => one(i)));
const wall = (performance.now() - t0) / 1000;

const by = (k) => results.filter((r) => r.kind === k);
const completed = by('completed');
const rejected = by('rejected');
const errors = by('error');
const pct = (xs, p) => (xs.length ? xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);
const rejectMs = rejected.map((r) => r.ms);
const tokens = completed.reduce((s, r) => s + r.tokens, 0);
console.log(`overload.mjs: ${CLIENTS} clients in ${wall.toFixed(1)} s: ${completed.length} completed (${tokens} tokens), `
  + `${rejected.length} got 429 (p50 ${pct(rejectMs, 0.5).toFixed(0)} ms, max ${Math.max(0, ...rejectMs).toFixed(0)} ms), `
  + `${errors.length} errors; peak open streams seen by the clients ${peakOpen}`);

const failures = [];
for (const e of errors.slice(0, 5)) failures.push(`a client failed: ${e.error}`);
if (completed.length + rejected.length !== CLIENTS) failures.push(`${errors.length} of ${CLIENTS} clients neither completed nor got 429`);
if (completed.length < Math.min(CLIENTS, MAX_IN_FLIGHT)) failures.push(`only ${completed.length} completed; the server admits ${MAX_IN_FLIGHT}`);
if (CLIENTS > MAX_IN_FLIGHT && rejected.length === 0) failures.push('no client was refused: is the in-flight limit enforced?');
const bound = MAX_429_MS ?? Math.min(...completed.map((r) => r.ms));
const slow = rejected.filter((r) => r.ms > bound);
if (slow.length) {
  failures.push(`${slow.length} refusals took longer than ${bound.toFixed(0)} ms (${MAX_429_MS === null ? 'the fastest completed stream' : 'MAX_429_MS'}; `
    + `slowest refusal ${Math.max(...rejectMs).toFixed(0)} ms)`);
}
const noRetryAfter = rejected.filter((r) => !r.retryAfter);
if (noRetryAfter.length) failures.push(`${noRetryAfter.length} 429 answers lack Retry-After`);
if (failures.length) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
console.log('overload.mjs: ok');
