// Structured outputs (response_format) through the official OpenAI Node SDK.
//
//   node openai/structured.mjs BASE_URL MODEL [LOGIT_BIAS_JSON]
//
// json_object and json_schema, on chat and completions, streamed and not: every answer must finish with "stop",
// parse as JSON (an object for json_object), and a json_schema answer must hold the schema's required keys with values
// of its types; a streamed answer's deltas must concatenate to the same valid JSON; a schema with an unsupported
// keyword must be a 400 naming response_format. LOGIT_BIAS_JSON (token id → bias) is sent with the json_object
// requests: a story model writing inside a free JSON string never closes it by itself (any object is unbounded).
// Exits 1 with a "FAIL <check>: <why>" line at the first wrong answer, 0 when all pass.
import OpenAI from 'openai';
import { scriptArgs } from './base-url.mjs';
import { CheckFailed, check, expect, results } from './checks.mjs';

const { baseURL, model, rest: [biasJson] } = scriptArgs('structured.mjs', 'BASE_URL MODEL [LOGIT_BIAS_JSON]');
const logitBias = biasJson ? JSON.parse(biasJson) : undefined;
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'none', maxRetries: 0, timeout: 60_000 });
const SCHEMA = {
  type: 'object',
  properties: {
    color: { enum: ['red', 'green', 'blue'] },
    count: { type: 'integer', minimum: 0, maximum: 99 },
    ok: { type: 'boolean' },
  },
  required: ['color', 'count', 'ok'],
  additionalProperties: false,
};
const JSON_SCHEMA = { type: 'json_schema', json_schema: { name: 'thing', schema: SCHEMA, strict: true } };
const JSON_OBJECT = { type: 'json_object' };
const messages = [{ role: 'user', content: 'Answer in JSON.' }];
function parsed(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckFailed(`${what}: not JSON: ${JSON.stringify(text)}`);
  }
}

function checkObject(text, what) {
  const v = parsed(text, what);
  expect(v !== null && typeof v === 'object' && !Array.isArray(v), `${what}: not an object: ${text}`);
}

function checkSchema(text, what) {
  const v = parsed(text, what);
  expect(v !== null && typeof v === 'object' && !Array.isArray(v), `${what}: not an object: ${text}`);
  expect(Object.keys(v).sort().join() === 'color,count,ok', `${what}: keys ${Object.keys(v)}`);
  expect(['red', 'green', 'blue'].includes(v.color), `${what}: color ${v.color}`);
  expect(Number.isInteger(v.count) && v.count >= 0 && v.count <= 99, `${what}: count ${v.count}`);
  expect(typeof v.ok === 'boolean', `${what}: ok ${v.ok}`);
}

const cases = [
  ['json_object', JSON_OBJECT, checkObject, logitBias],
  ['json_schema', JSON_SCHEMA, checkSchema, undefined],
];

for (const [kind, format, verify, bias] of cases) {
  for (const seed of [1, 2]) {
    const common = { model, max_tokens: 300, seed, response_format: format, ...(bias ? { logit_bias: bias } : {}) };
    await check(`chat ${kind} seed ${seed}`, async () => {
      const r = await client.chat.completions.create({ ...common, messages });
      expect(r.choices[0].finish_reason === 'stop', `finish_reason ${r.choices[0].finish_reason}: ${r.choices[0].message.content}`);
      verify(r.choices[0].message.content, 'content');
      const s = await client.chat.completions.create({ ...common, messages, stream: true });
      let text = '';
      let finish = null;
      for await (const chunk of s) {
        for (const c of chunk.choices) {
          text += c.delta?.content ?? '';
          if (c.finish_reason) finish = c.finish_reason;
        }
      }
      expect(finish === 'stop', `streamed finish_reason ${finish}`);
      verify(text, 'streamed content');
      expect(text === r.choices[0].message.content, 'same seed: the stream concatenates to the whole answer');
    });
    await check(`completions ${kind} seed ${seed}`, async () => {
      const r = await client.completions.create({ ...common, prompt: 'Once upon a time' });
      expect(r.choices[0].finish_reason === 'stop', `finish_reason ${r.choices[0].finish_reason}: ${r.choices[0].text}`);
      verify(r.choices[0].text, 'text');
      const s = await client.completions.create({ ...common, prompt: 'Once upon a time', stream: true });
      let text = '';
      for await (const chunk of s) for (const c of chunk.choices) text += c.text ?? '';
      verify(text, 'streamed text');
    });
  }
}

await check('an unsupported keyword is a 400 about response_format', async () => {
  try {
    await client.chat.completions.create({
      model, messages, max_tokens: 5,
      response_format: { type: 'json_schema', json_schema: { name: 'bad', schema: { type: 'object', patternProperties: { '^x': {} } } } },
    });
    throw new CheckFailed('the schema was accepted');
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    expect(e instanceof OpenAI.APIError, `not an API error: ${e}`);
    expect(e.status === 400, `status ${e.status}`);
    expect((e.param ?? e.error?.param) === 'response_format', `param ${e.param ?? e.error?.param}`);
    expect(String(e.message).includes('patternProperties'), `message ${e.message}`);
  }
});

console.log(`structured.mjs: all ${results.passed} checks passed against ${baseURL} (model ${model})`);
