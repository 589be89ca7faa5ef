// A second, independent gRPC implementation (grpc-js + proto-loader, reading the .proto files of
// runtime-api at run time) talking to a running Basalt server.
//
//   node e2e/grpc/client.mjs <port> [proto-dir]
//
// proto-dir defaults to runtime-api/src/main/proto beside this checkout. BASALT_API_KEY, when set,
// is sent as "authorization: Bearer <key>". Checks: Health/Check = SERVING; ListModels; a greedy
// Generate streams non-empty text, ends with a finish_reason and usage, and is reproducible; a long
// Generate cancelled mid-stream ends CANCELLED before finishing. Exits 0 only if every check passed.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [portArg, protoDirArg] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node client.mjs <port> [proto-dir]');
  process.exit(2);
}
const protoDir = protoDirArg ?? path.resolve(here, '../../runtime-api/src/main/proto');
const target = `127.0.0.1:${port}`;

const definition = protoLoader.loadSync(['basalt/v1/inference.proto', 'health.proto'], {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoDir, here],
});
const api = grpc.loadPackageDefinition(definition);
const credentials = grpc.credentials.createInsecure();
const inference = new api.basalt.v1.Inference(target, credentials);
const health = new api.grpc.health.v1.Health(target, credentials);

function metadata() {
  const md = new grpc.Metadata();
  if (process.env.BASALT_API_KEY) md.set('authorization', `Bearer ${process.env.BASALT_API_KEY}`);
  return md;
}

const deadline = () => ({ deadline: Date.now() + 20_000 });
const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

function unary(client, method, request) {
  return new Promise((resolve, reject) =>
    client[method](request, metadata(), deadline(), (err, res) => (err ? reject(err) : resolve(res))));
}

/** Streams a Generate call; resolves with the messages (cancelAfter: cancel after that many). */
function generate(request, cancelAfter = Infinity) {
  return new Promise((resolve) => {
    const messages = [];
    const call = inference.Generate(request, metadata(), deadline());
    call.on('data', (m) => {
      messages.push(m);
      if (messages.length === cancelAfter) call.cancel();
    });
    call.on('error', (error) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages, error: null }));
  });
}

async function main() {
  const h = await unary(health, 'Check', { service: '' });
  check(h.status === 'SERVING', `health Check = SERVING (got ${h.status})`);

  const models = await unary(inference, 'ListModels', {});
  const model = models.models[0]?.id;
  check(typeof model === 'string' && model.length > 0, `ListModels names a model (${model})`);

  const request = { model, text: 'Once upon a time', temperature: 0, max_tokens: 32 };
  const a = await generate(request);
  check(a.error === null, `greedy Generate completed${a.error ? ` (error: ${a.error.code} ${a.error.details})` : ''}`);
  const text = a.messages.map((m) => m.text).join('');
  const last = a.messages.at(-1);
  check(text.length > 0, `greedy Generate streamed non-empty text (${a.messages.length} messages): ${JSON.stringify(text.slice(0, 60))}`);
  check(['stop', 'length'].includes(last?.finish_reason), `the stream ends with a finish_reason (${last?.finish_reason})`);
  check(a.messages.slice(0, -1).every((m) => m.finish_reason === ''), 'only the last message has a finish_reason');
  check(last?.usage != null && last.usage.completion_tokens > 0, `the last message carries usage (${JSON.stringify(last?.usage)})`);
  const b = await generate(request);
  check(b.messages.map((m) => m.text).join('') === text, 'temperature 0 (an explicitly set optional zero) is greedy: same text twice');

  const long = await generate({ model, text: 'Once upon a time', temperature: 0, max_tokens: 400, ignore_eos: true }, 3);
  check(long.messages.length === 3, `the long generation streamed 3 messages before the cancel (got ${long.messages.length})`);
  check(long.messages.every((m) => m.finish_reason === ''), 'the long generation had not finished when cancelled');
  check(long.error?.code === grpc.status.CANCELLED, `the cancelled call ended CANCELLED (got ${long.error?.code})`);

  const h2 = await unary(health, 'Check', { service: 'basalt.v1.Inference' });
  check(h2.status === 'SERVING', `health Check(basalt.v1.Inference) = SERVING after the cancel (got ${h2.status})`);
}

const timer = setTimeout(() => {
  console.error('FAIL the checks did not finish within 60 s');
  process.exit(1);
}, 60_000);
try {
  await main();
} catch (e) {
  check(false, `unexpected error: ${e.code ?? ''} ${e.details ?? e.message ?? e}`);
}
clearTimeout(timer);
inference.close();
health.close();
if (failures.length > 0) {
  console.error(`${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('all gRPC checks passed');
process.exit(0);
