// Clients that go away: each aborts its request (AbortController) at a random point — while
// connecting or queued, after the response headers, mid-stream, or during a non-streamed wait.
//
//   node openai/disconnects.mjs BASE_URL MODEL [CLIENTS=100] [SEED=1]
//
// Passes when every client ends in an abort (or finished before it could abort, or got a 429
// that it retried), the server answered nothing else (no 5xx), and afterwards it still serves:
// a greedy completion is identical before and after the storm. Whether the server freed what the
// aborted requests held is checked by the caller (OpenAiSdkE2ETest reads the engine's KV usage).
import OpenAI from 'openai';
import { scriptArgs } from './base-url.mjs';

const { baseURL, model, rest: [clientsArg, seedArg] } = scriptArgs('disconnects.mjs', 'BASE_URL MODEL [CLIENTS] [SEED]');
const CLIENTS = Number(clientsArg ?? 100);
let rng = Number(seedArg ?? 1) >>> 0 || 1;
function random() { // xorshift32: the same storm for the same seed
  rng ^= rng << 13; rng >>>= 0;
  rng ^= rng >>> 17;
  rng ^= rng << 5; rng >>>= 0;
  return rng / 4294967296;
}
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 120_000 });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PROMPT = 'Once upon a time';

function isAbort(e) {
  return e instanceof OpenAI.APIUserAbortError || e?.name === 'AbortError' || e?.name === 'APIUserAbortError';
}

const MODES = ['before-headers', 'after-headers', 'mid-stream', 'mid-stream-chat', 'non-streamed'];

async function attempt(mode, plan) {
  const ac = new AbortController();
  const opts = { signal: ac.signal };
  const body = { model, max_tokens: 400, temperature: 0.8, seed: plan.seed };
  if (mode === 'before-headers') {
    setTimeout(() => ac.abort(), plan.delayMs);
    await client.completions.create({ ...body, prompt: PROMPT, stream: true }, opts);
    // Headers came before the abort; the abort then lands on the stream below.
    return 'late';
  }
  if (mode === 'non-streamed') {
    setTimeout(() => ac.abort(), plan.delayMs);
    await client.completions.create({ ...body, prompt: PROMPT }, opts);
    return 'finished';
  }
  const chat = mode === 'mid-stream-chat';
  const stream = chat
    ? await client.chat.completions.create({ ...body, messages: [{ role: 'user', content: 'Tell me a story.' }], stream: true }, opts)
    : await client.completions.create({ ...body, prompt: PROMPT, stream: true }, opts);
  if (mode === 'after-headers') {
    ac.abort();
  }
  let chunks = 0;
  for await (const _ of stream) {
    if (++chunks >= plan.chunks) ac.abort();
  }
  // The SDK ends the iteration quietly when its signal aborts.
  return ac.signal.aborted ? 'aborted' : 'finished';
}

async function one(i) {
  const mode = MODES[i % MODES.length];
  const plan = { seed: i, delayMs: Math.floor(random() * 40), chunks: 1 + Math.floor(random() * 60) };
  for (let tries = 0; tries < 200; tries++) {
    try {
      return { mode, outcome: await attempt(mode, plan) };
    } catch (e) {
      if (isAbort(e)) return { mode, outcome: 'aborted' };
      if (e instanceof OpenAI.APIError && e.status === 429) {
        await sleep(20 + Math.floor(random() * 80));
        continue;
      }
      return { mode, outcome: 'error', error: e instanceof OpenAI.APIError ? `HTTP ${e.status}: ${e.message}` : String(e) };
    }
  }
  return { mode, outcome: 'error', error: 'refused 200 times' };
}

async function greedy() {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 48, temperature: 0 });
  return r.choices[0].text;
}

const before = await greedy();
const t0 = performance.now();
const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => one(i)));
const wall = (performance.now() - t0) / 1000;
const counts = {};
for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
console.log(`disconnects.mjs: ${CLIENTS} clients in ${wall.toFixed(1)} s: ${JSON.stringify(counts)}`);

const failures = [];
for (const r of results.filter((r) => r.outcome === 'error').slice(0, 5)) failures.push(`${r.mode}: ${r.error}`);
if ((counts.aborted ?? 0) < CLIENTS / 2) failures.push(`only ${counts.aborted ?? 0} of ${CLIENTS} clients actually aborted`);
const after = await greedy();
if (after !== before) failures.push(`the greedy answer changed after the storm: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
if (failures.length) {
  for (const f of failures) console.error(`FAIL ${f}`);
  process.exit(1);
}
console.log('disconnects.mjs: ok (the server still answers the same greedy text)');
