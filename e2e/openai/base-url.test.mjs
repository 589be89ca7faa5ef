// node --test openai/base-url.test.mjs (no dependencies; BaseUrlScriptTest runs it in the default suite)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { apiBase } from './base-url.mjs';

test('a server address gets /v1, an API root is kept', () => {
  assert.equal(apiBase('http://127.0.0.1:8000'), 'http://127.0.0.1:8000/v1');
  assert.equal(apiBase('http://127.0.0.1:8000/'), 'http://127.0.0.1:8000/v1');
  assert.equal(apiBase('http://127.0.0.1:8000/v1'), 'http://127.0.0.1:8000/v1');
  assert.equal(apiBase('http://127.0.0.1:8000/v1/'), 'http://127.0.0.1:8000/v1');
  assert.equal(apiBase('https://gateway.example/openai'), 'https://gateway.example/openai/v1');
});

test('what is not an http(s) URL is refused', () => {
  for (const bad of ['127.0.0.1:8000', 'localhost', 'ftp://host/v1', '']) {
    assert.throws(() => apiBase(bad), /BASE_URL must be an http\(s\) URL/, bad);
  }
});

// The scripts' own argument handling, where the 'openai' package is installed (it is imported first).
const here = fileURLToPath(new URL('.', import.meta.url));
let sdkInstalled = true;
try {
  await import('openai');
} catch {
  sdkInstalled = false;
}
for (const script of ['sdk.mjs', 'overload.mjs', 'disconnects.mjs', 'structured.mjs']) {
  test(`${script}: usage and a bad BASE_URL exit 2 with one line`, { skip: !sdkInstalled && 'the openai package is not installed' }, () => {
    const missing = spawnSync(process.execPath, [script], { cwd: here, encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, new RegExp(`^usage: node openai/${script.replace('.', '\\.')} BASE_URL MODEL`));
    const bad = spawnSync(process.execPath, [script, 'localhost:8000', 'm'], { cwd: here, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /BASE_URL must be an http\(s\) URL/);
  });
}
