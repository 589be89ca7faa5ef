// End-to-end check of a running `basalt serve` with the official OpenAI Node SDK.
//
//   node openai/sdk.mjs BASE_URL MODEL [EXPECTED_GREEDY_COMPLETION]
//
// BASE_URL is the server (http://127.0.0.1:8000) or its API root (http://127.0.0.1:8000/v1);
// OPENAI_API_KEY is sent when set.
// EXPECTED_GREEDY_COMPLETION, when given, is the exact text of a greedy (temperature 0) completion of
// PROMPT with GREEDY_TOKENS tokens; otherwise the first non-streamed greedy call is the reference
// the others are checked against. Every answer is checked, not just received: exits 1 with a
// "FAIL <check>: <why>" line at the first wrong one, 0 when all pass.
import OpenAI from 'openai';
import { scriptArgs } from './base-url.mjs';
import { CheckFailed, check, expect, results } from './checks.mjs';

const { baseURL, model, rest: [expectedGreedy] } = scriptArgs('sdk.mjs', 'BASE_URL MODEL [EXPECTED_GREEDY_COMPLETION]');
const PROMPT = 'Once upon a time';
const GREEDY_TOKENS = 32;

const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 60_000 });
function eq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new CheckFailed(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function checkUsage(usage, what) {
  expect(usage, `${what}: usage is missing`);
  expect(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `${what}: prompt_tokens ${usage.prompt_tokens}`);
  expect(Number.isInteger(usage.completion_tokens) && usage.completion_tokens >= 0, `${what}: completion_tokens ${usage.completion_tokens}`);
  eq(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens, `${what}: total_tokens = prompt + completion`);
}

/** Collects a streamed completion or chat completion: text per choice, finish reasons, the usage chunk. */
async function collect(stream, kind) {
  const text = {};
  const finish = {};
  const roles = {};
  let usage = null;
  let ids = new Set();
  let created = new Set();
  let chunks = 0;
  let usageChunks = 0;
  for await (const chunk of stream) {
    chunks++;
    ids.add(chunk.id);
    created.add(chunk.created);
    eq(chunk.object, kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', 'chunk object');
    if (chunk.usage) {
      usage = chunk.usage;
      usageChunks++;
      eq(chunk.choices.length, 0, 'the usage chunk has no choices');
      continue;
    }
    expect(usageChunks === 0, 'a chunk came after the usage chunk');
    for (const c of chunk.choices) {
      expect(Number.isInteger(c.index), 'choice index');
      const piece = kind === 'chat' ? (c.delta?.content ?? '') : (c.text ?? '');
      text[c.index] = (text[c.index] ?? '') + piece;
      if (kind === 'chat' && c.delta?.role) roles[c.index] = c.delta.role;
      if (c.finish_reason) {
        expect(finish[c.index] === undefined, `choice ${c.index} finished twice`);
        finish[c.index] = c.finish_reason;
      }
    }
  }
  expect(chunks > 0, 'the stream had no chunks');
  eq(ids.size, 1, 'every chunk has the same id');
  eq(created.size, 1, 'every chunk has the same created');
  expect(usageChunks <= 1, 'at most one usage chunk');
  return { text, finish, roles, usage };
}

function stopReasonOk(r) {
  return r === 'stop' || r === 'length';
}

let greedy; // the reference greedy completion { text, usage, finish }

await check('models.list lists the served model', async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  expect(ids.includes(model), `'${model}' not in ${JSON.stringify(ids)}`);
  for (const m of page.data) {
    eq(m.object, 'model', 'model object');
    expect(Number.isInteger(m.created), 'model created');
    expect(typeof m.owned_by === 'string', 'model owned_by');
  }
  const one = await client.models.retrieve(model);
  eq(one.id, model, 'models.retrieve id');
});

await check('completions: greedy, non-streamed', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: GREEDY_TOKENS, temperature: 0 });
  eq(r.object, 'text_completion', 'object');
  eq(r.choices.length, 1, 'one choice');
  const c = r.choices[0];
  expect(typeof c.text === 'string' && c.text.length > 0, 'empty text');
  expect(stopReasonOk(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage, 'usage');
  expect(r.usage.completion_tokens <= GREEDY_TOKENS, `completion_tokens ${r.usage.completion_tokens} > max_tokens`);
  if (c.finish_reason === 'length') eq(r.usage.completion_tokens, GREEDY_TOKENS, 'finish=length means max_tokens tokens');
  if (expectedGreedy !== undefined) eq(c.text, expectedGreedy, 'greedy text (the engine\'s own answer)');
  greedy = { text: c.text, usage: r.usage, finish: c.finish_reason };
});

await check('completions: greedy again gives the same text', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: GREEDY_TOKENS, temperature: 0 });
  eq(r.choices[0].text, greedy.text, 'text');
});

await check('completions: streamed == non-streamed, usage chunk adds up', async () => {
  const s = await client.completions.create({
    model, prompt: PROMPT, max_tokens: GREEDY_TOKENS, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  const got = await collect(s, 'completion');
  eq(got.text[0], greedy.text, 'streamed text');
  eq(got.finish[0], greedy.finish, 'finish_reason');
  checkUsage(got.usage, 'streamed usage');
  eq(got.usage.prompt_tokens, greedy.usage.prompt_tokens, 'prompt_tokens');
  eq(got.usage.completion_tokens, greedy.usage.completion_tokens, 'completion_tokens');
});

await check('completions: streamed without include_usage has no usage chunk', async () => {
  const s = await client.completions.create({ model, prompt: PROMPT, max_tokens: 8, temperature: 0, stream: true });
  const got = await collect(s, 'completion');
  eq(got.usage, null, 'usage');
  expect(greedy.text.startsWith(got.text[0]), `8-token greedy '${got.text[0]}' is not a prefix of '${greedy.text}'`);
});

let chat;
await check('chat: greedy, non-streamed', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Tell me a story about a cat.' }], max_tokens: 24, temperature: 0,
  });
  eq(r.object, 'chat.completion', 'object');
  eq(r.choices.length, 1, 'one choice');
  const c = r.choices[0];
  eq(c.index, 0, 'index');
  eq(c.message.role, 'assistant', 'role');
  expect(typeof c.message.content === 'string', 'content is a string');
  expect(stopReasonOk(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage, 'usage');
  expect(r.usage.completion_tokens <= 24, `completion_tokens ${r.usage.completion_tokens} > max_tokens`);
  chat = { text: c.message.content, usage: r.usage, finish: c.finish_reason };
});

await check('chat: streamed == non-streamed, role first, usage chunk adds up', async () => {
  const s = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Tell me a story about a cat.' }], max_tokens: 24, temperature: 0,
    stream: true, stream_options: { include_usage: true },
  });
  const got = await collect(s, 'chat');
  eq(got.roles[0], 'assistant', 'delta role');
  eq(got.text[0], chat.text, 'streamed content');
  eq(got.finish[0], chat.finish, 'finish_reason');
  checkUsage(got.usage, 'streamed usage');
  eq(got.usage.prompt_tokens, chat.usage.prompt_tokens, 'prompt_tokens');
  eq(got.usage.completion_tokens, chat.usage.completion_tokens, 'completion_tokens');
});

await check('chat: logprobs with top_logprobs', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Tell me a story about a cat.' }], max_tokens: 12, temperature: 0,
    logprobs: true, top_logprobs: 3,
  });
  const c = r.choices[0];
  expect(chat.text.startsWith(c.message.content), `12-token greedy '${c.message.content}' is not a prefix of '${chat.text}'`);
  const lp = c.logprobs?.content;
  expect(Array.isArray(lp) && lp.length > 0, `logprobs.content missing: ${JSON.stringify(c.logprobs)}`);
  expect(lp.length <= r.usage.completion_tokens, `${lp.length} logprob entries for ${r.usage.completion_tokens} tokens`);
  for (const t of lp) {
    expect(typeof t.token === 'string', 'token');
    expect(typeof t.logprob === 'number' && t.logprob <= 0, `logprob ${t.logprob} > 0`);
    expect(Array.isArray(t.top_logprobs) && t.top_logprobs.length === 3, `top_logprobs ${JSON.stringify(t.top_logprobs)}`);
    for (const alt of t.top_logprobs) expect(alt.logprob <= 0, `top logprob ${alt.logprob} > 0`);
    // Greedy: the chosen token is the most likely one.
    expect(Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-3, `greedy token ${JSON.stringify(t)} is not the top one`);
    for (let i = 1; i < t.top_logprobs.length; i++) {
      expect(t.top_logprobs[i].logprob <= t.top_logprobs[i - 1].logprob + 1e-6, 'top_logprobs sorted');
    }
  }
});

await check('completions: logprobs (legacy shape)', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 8, temperature: 0, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  expect(lp && Array.isArray(lp.tokens) && lp.tokens.length > 0, `logprobs missing: ${JSON.stringify(lp)}`);
  eq(lp.token_logprobs.length, lp.tokens.length, 'token_logprobs length');
  for (const v of lp.token_logprobs) expect(typeof v === 'number' && v <= 0, `token logprob ${v} > 0`);
  eq(lp.top_logprobs.length, lp.tokens.length, 'top_logprobs length');
  for (const m of lp.top_logprobs) {
    // Up to logprobs + 1 entries: the sampled token may come on top of the 2 most likely.
    expect(Object.keys(m).length >= 1 && Object.keys(m).length <= 3, `top_logprobs entry ${JSON.stringify(m)}`);
    for (const v of Object.values(m)) expect(v <= 0, `top logprob ${v} > 0`);
  }
  if (lp.text_offset) eq(lp.text_offset.length, lp.tokens.length, 'text_offset length');
});

await check('chat: n=2 gives two choices (non-streamed and streamed)', async () => {
  const req = { model, messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 16, temperature: 0.9, seed: 7, n: 2 };
  const r = await client.chat.completions.create(req);
  eq(r.choices.length, 2, 'choices');
  eq(r.choices.map((c) => c.index).sort(), [0, 1], 'indices');
  for (const c of r.choices) expect(stopReasonOk(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage, 'usage');
  expect(r.usage.completion_tokens <= 32, `completion_tokens ${r.usage.completion_tokens} > 2 × 16`);
  const s = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  const got = await collect(s, 'chat');
  eq(Object.keys(got.finish).sort(), ['0', '1'], 'both streamed choices finish');
  eq([got.text[0], got.text[1]], r.choices.map((c) => c.message.content), 'seeded n=2 streamed == non-streamed');
  eq(got.usage.completion_tokens, r.usage.completion_tokens, 'completion_tokens');
});

await check('completions: n=2', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 10, temperature: 1.0, seed: 3, n: 2 });
  eq(r.choices.length, 2, 'choices');
  eq(r.choices.map((c) => c.index).sort(), [0, 1], 'indices');
});

await check('stop string: cut before it, never returned, streamed too', async () => {
  // A piece of the greedy text whose first occurrence is at p > 0: the answer must be exactly greedy[0:p].
  let p = -1;
  let stop = '';
  for (let i = Math.min(6, greedy.text.length - 1); i + 3 <= greedy.text.length; i++) {
    const s = greedy.text.slice(i, i + 3);
    if (s.trim().length === 3 && greedy.text.indexOf(s) === i) { p = i; stop = s; break; }
  }
  expect(p > 0, `no usable stop string in the greedy text ${JSON.stringify(greedy.text)}`);
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: GREEDY_TOKENS, temperature: 0, stop: [stop, '\u0000never'] });
  const c = r.choices[0];
  eq(c.text, greedy.text.slice(0, p), `text with stop ${JSON.stringify(stop)}`);
  expect(!c.text.includes(stop), 'the stop string leaked');
  eq(c.finish_reason, 'stop', 'finish_reason');
  const s = await client.completions.create({ model, prompt: PROMPT, max_tokens: GREEDY_TOKENS, temperature: 0, stop, stream: true });
  const got = await collect(s, 'completion');
  eq(got.text[0], greedy.text.slice(0, p), 'streamed text with stop');
  eq(got.finish[0], 'stop', 'streamed finish_reason');
});

await check('seed: same seed twice gives the same text, other seeds differ', async () => {
  const req = { model, prompt: PROMPT, max_tokens: 24, temperature: 1.0, top_p: 0.95 };
  const a = await client.completions.create({ ...req, seed: 1234 });
  const b = await client.completions.create({ ...req, seed: 1234 });
  eq(b.choices[0].text, a.choices[0].text, 'seed 1234 twice');
  const others = [];
  for (const seed of [1, 2, 3]) others.push((await client.completions.create({ ...req, seed })).choices[0].text);
  expect(others.some((t) => t !== a.choices[0].text), 'three other seeds all gave the seed-1234 text');
  const chatReq = { model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16, temperature: 1.0, seed: 99 };
  const c1 = await client.chat.completions.create(chatReq);
  const c2 = await client.chat.completions.create({ ...chatReq, stream: true });
  eq((await collect(c2, 'chat')).text[0], c1.choices[0].message.content, 'chat seed 99: streamed == non-streamed');
});

await check('max_tokens: finish_reason length at exactly max_tokens', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT, max_tokens: 5, temperature: 0 });
  checkUsage(r.usage, 'usage');
  expect(greedy.text.startsWith(r.choices[0].text), '5-token greedy is a prefix of the 32-token one');
  if (r.choices[0].finish_reason === 'length') eq(r.usage.completion_tokens, 5, 'completion_tokens');
  else expect(r.usage.completion_tokens <= 5, `completion_tokens ${r.usage.completion_tokens}`);
  const chatR = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0 });
  expect(chatR.usage.completion_tokens <= 3, `chat completion_tokens ${chatR.usage.completion_tokens} > 3`);
});

await check('errors: unknown model is 404, a bad parameter is 400', async () => {
  try {
    await client.completions.create({ model: 'no-such-model', prompt: PROMPT, max_tokens: 2 });
    throw new CheckFailed('an unknown model was accepted');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expect(e instanceof OpenAI.APIError, `not an API error: ${e}`);
    eq(e.status, 404, 'status for an unknown model');
    expect(typeof e.error?.message === 'string' || typeof e.message === 'string', 'error message');
  }
  try {
    await client.completions.create({ model, prompt: PROMPT, max_tokens: 2, top_p: 1.5 });
    throw new CheckFailed('top_p 1.5 was accepted');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expect(e instanceof OpenAI.APIError, `not an API error: ${e}`);
    eq(e.status, 400, 'status for top_p 1.5');
    eq(e.type ?? e.error?.type, 'invalid_request_error', 'error type');
  }
});

console.log(`sdk.mjs: all ${results.passed} checks passed against ${baseURL} (model ${model})`);
