// Tool calling through the official OpenAI Node SDK.
//
//   node openai/tools.mjs BASE_URL MODEL
//
// tool_choice named, required (parallel and not), none and auto, streamed and not, and a tool-result round trip.
// A named or required choice is grammar-constrained, so even a random-weight model must answer with calls whose
// arguments are valid for the declared parameters; the streamed deltas, accumulated by the SDK's own
// ChatCompletionStream and by hand, must equal the non-streamed answer of the same seed exactly (ids included).
// Exits 1 with a "FAIL <check>: <why>" line at the first wrong answer, 0 when all pass.
import OpenAI from 'openai';
import { scriptArgs } from './base-url.mjs';
import { CheckFailed, check, expect, results } from './checks.mjs';

const { baseURL, model } = scriptArgs('tools.mjs', 'BASE_URL MODEL');
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 120_000 });

const WEATHER = {
  type: 'object',
  properties: { city: { enum: ['Paris', 'Tokyo', 'Lima'] }, unit: { enum: ['c', 'f'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};
const TIME = {
  type: 'object',
  properties: { hours: { type: 'integer', minimum: 0, maximum: 23 }, dst: { type: 'boolean' } },
  required: ['hours', 'dst'],
  additionalProperties: false,
};
const tools = [
  { type: 'function', function: { name: 'get_weather', description: 'Current weather in a city.', parameters: WEATHER } },
  { type: 'function', function: { name: 'get_time', description: 'The hour of the day.', parameters: TIME } },
];
const messages = [{ role: 'user', content: 'What is the weather in Paris, and what time is it?' }];

function args(call, what) {
  let v;
  try {
    v = JSON.parse(call.function.arguments);
  } catch (e) {
    throw new CheckFailed(`${what}: arguments are not JSON: ${JSON.stringify(call.function.arguments)}`);
  }
  if (call.function.name === 'get_weather') {
    expect(Object.keys(v).join() === 'city,unit', `${what}: get_weather keys ${Object.keys(v)}`);
    expect(['Paris', 'Tokyo', 'Lima'].includes(v.city) && ['c', 'f'].includes(v.unit), `${what}: get_weather ${call.function.arguments}`);
  } else if (call.function.name === 'get_time') {
    expect(Object.keys(v).join() === 'hours,dst', `${what}: get_time keys ${Object.keys(v)}`);
    expect(Number.isInteger(v.hours) && v.hours >= 0 && v.hours <= 23 && typeof v.dst === 'boolean',
      `${what}: get_time ${call.function.arguments}`);
  } else {
    throw new CheckFailed(`${what}: undeclared function ${call.function.name}`);
  }
  return v;
}

function checkCall(call, what) {
  expect(/^call_[0-9A-Za-z]{24}$/.test(call.id), `${what}: id ${call.id}`);
  expect(call.type === 'function', `${what}: type ${call.type}`);
  args(call, what);
}

/** The stream accumulated by hand: per index, the first fragment's id/name, arguments concatenated. */
async function streamByHand(params) {
  const s = await client.chat.completions.create({ ...params, stream: true });
  const calls = [];
  let content = '';
  let finish = null;
  for await (const chunk of s) {
    for (const c of chunk.choices) {
      content += c.delta?.content ?? '';
      for (const t of c.delta?.tool_calls ?? []) {
        expect(Number.isInteger(t.index), `stream: a tool_calls delta without index: ${JSON.stringify(t)}`);
        if (!calls[t.index]) {
          expect(t.id && t.function?.name !== undefined, `stream: call ${t.index} opens without id or name: ${JSON.stringify(t)}`);
          calls[t.index] = { id: t.id, type: t.type, function: { name: t.function.name, arguments: t.function.arguments ?? '' } };
        } else {
          expect(t.id === undefined && t.function?.name === undefined, `stream: id/name repeated in a later fragment: ${JSON.stringify(t)}`);
          calls[t.index].function.arguments += t.function?.arguments ?? '';
        }
      }
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { calls, content, finish };
}

/** The SDK's own accumulation (ChatCompletionStream). */
async function streamBySdk(params) {
  const s = client.chat.completions.stream({ ...params, stream: true });
  return (await s.finalChatCompletion()).choices[0];
}

function sameCalls(a, b, what) {
  const strip = (cs) => JSON.stringify((cs ?? []).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })));
  expect(strip(a) === strip(b), `${what}: ${strip(a)} != ${strip(b)}`);
}

async function both(params, what, verify) {
  const r = await client.chat.completions.create(params);
  const choice = r.choices[0];
  verify(choice, `${what}`);
  const byHand = await streamByHand(params);
  expect(byHand.finish === choice.finish_reason, `${what}: streamed finish_reason ${byHand.finish} != ${choice.finish_reason}`);
  sameCalls(byHand.calls, choice.message.tool_calls, `${what}: stream by hand = response`);
  const sdk = await streamBySdk(params);
  sameCalls(sdk.message.tool_calls, choice.message.tool_calls, `${what}: SDK stream = response`);
  return choice;
}

let roundTrip = null;
let maxParallel = 0;
for (const seed of [1, 2, 3]) {
  await check(`named get_time, seed ${seed}`, async () => {
    await both({ model, messages, tools, tool_choice: { type: 'function', function: { name: 'get_time' } }, seed, max_tokens: 200 },
      `named seed ${seed}`, (c, what) => {
        expect(c.finish_reason === 'stop', `${what}: finish_reason ${c.finish_reason} (OpenAI answers 'stop' for a named choice)`);
        const calls = c.message.tool_calls ?? [];
        expect(calls.length === 1 && calls[0].function.name === 'get_time', `${what}: calls ${JSON.stringify(calls)}`);
        checkCall(calls[0], what);
      });
  });
  await check(`required, parallel_tool_calls false, seed ${seed}`, async () => {
    await both({ model, messages, tools, tool_choice: 'required', parallel_tool_calls: false, seed, max_tokens: 200 },
      `single seed ${seed}`, (c, what) => {
        expect(c.finish_reason === 'tool_calls', `${what}: finish_reason ${c.finish_reason}`);
        const calls = c.message.tool_calls ?? [];
        expect(calls.length === 1, `${what}: ${calls.length} calls`);
        checkCall(calls[0], what);
      });
  });
}

// A random-weight model may keep adding calls to the array until max_tokens: such a choice ends with 'length' (every
// call but the cut last one still valid); three seeds must finish with 'tool_calls', and one answer must hold two calls.
let finished = 0, cut = 0;
for (let seed = 1; seed <= 10 && finished < 3; seed++) {
  await check(`required, parallel, seed ${seed}`, async () => {
    const c = await both({ model, messages, tools, tool_choice: 'required', seed, max_tokens: 300 }, `required seed ${seed}`, (c, what) => {
      const calls = c.message.tool_calls ?? [];
      expect(calls.length >= 1 || c.finish_reason === 'length', `${what}: no calls`);
      if (c.finish_reason === 'length') {
        calls.slice(0, -1).forEach((call, i) => checkCall(call, `${what} call ${i}`));
        return;
      }
      expect(c.finish_reason === 'tool_calls', `${what}: finish_reason ${c.finish_reason}`);
      calls.forEach((call, i) => checkCall(call, `${what} call ${i}`));
      expect(new Set(calls.map((x) => x.id)).size === calls.length, `${what}: repeated ids`);
    });
    if (c.finish_reason === 'length') {
      cut++;
      return;
    }
    finished++;
    maxParallel = Math.max(maxParallel, c.message.tool_calls.length);
    if (!roundTrip || c.message.tool_calls.length > roundTrip.tool_calls.length) roundTrip = c.message;
  });
}
await check('required: three answers finished with tool_calls, one with parallel calls', async () => {
  expect(finished === 3, `${finished} finished, ${cut} cut by max_tokens`);
  expect(maxParallel >= 2, `at most ${maxParallel} call(s) in one answer`);
});

await check('none: no calls, content only', async () => {
  const r = await client.chat.completions.create({ model, messages, tools, tool_choice: 'none', seed: 1, max_tokens: 16 });
  const c = r.choices[0];
  expect(!c.message.tool_calls || c.message.tool_calls.length === 0, `calls ${JSON.stringify(c.message.tool_calls)}`);
  expect(typeof c.message.content === 'string', `content ${c.message.content}`);
  expect(['stop', 'length'].includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
});

await check('auto: a well-formed answer, stream = response', async () => {
  await both({ model, messages, tools, tool_choice: 'auto', seed: 4, max_tokens: 32 }, 'auto', (c, what) => {
    expect(['stop', 'length', 'tool_calls'].includes(c.finish_reason), `${what}: finish_reason ${c.finish_reason}`);
    (c.message.tool_calls ?? []).forEach((call, i) => expect(/^call_/.test(call.id), `${what} call ${i}: id ${call.id}`));
  });
});

await check('a tool result round trip', async () => {
  expect(roundTrip, 'no required answer to continue from');
  const history = [...messages, { role: 'assistant', content: roundTrip.content, tool_calls: roundTrip.tool_calls }];
  for (const call of roundTrip.tool_calls) {
    history.push({ role: 'tool', tool_call_id: call.id, content: call.function.name === 'get_weather' ? '{"temp": 21}' : '{"hour": 9}' });
  }
  const r = await client.chat.completions.create({ model, messages: history, tools, seed: 5, max_tokens: 16 });
  expect(['stop', 'length', 'tool_calls'].includes(r.choices[0].finish_reason), `finish_reason ${r.choices[0].finish_reason}`);
  const named = await client.chat.completions.create({ model, messages: history, tools, seed: 5, max_tokens: 200,
    tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  checkCall(named.choices[0].message.tool_calls[0], 'after the round trip');
});

await check('a tool result with an unknown tool_call_id is a 400', async () => {
  try {
    await client.chat.completions.create({ model, tools, max_tokens: 4,
      messages: [...messages, { role: 'tool', tool_call_id: 'call_nope', content: '1' }] });
    throw new CheckFailed('accepted');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expect(e instanceof OpenAI.APIError && e.status === 400, `status ${e.status}: ${e.message}`);
  }
});

await check('naming an undeclared function is a 400 about tool_choice', async () => {
  try {
    await client.chat.completions.create({ model, messages, tools, max_tokens: 4, tool_choice: { type: 'function', function: { name: 'nope' } } });
    throw new CheckFailed('accepted');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expect(e instanceof OpenAI.APIError && e.status === 400, `status ${e.status}: ${e.message}`);
    expect((e.param ?? e.error?.param) === 'tool_choice', `param ${e.param ?? e.error?.param}`);
  }
});

console.log(`tools.mjs: all ${results.passed} checks passed against ${baseURL} (model ${model}); most calls in one answer: ${maxParallel}; required answers cut by max_tokens: ${cut}`);
