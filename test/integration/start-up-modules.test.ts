// What `skiff serve` loads into its main thread: nothing it does not use. A module loaded at start-up costs
// start-up time (the ready target is 1 s) and stays in the heap that every full collection marks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureModel } from '../helpers/paths.js';
import { startCli } from '../helpers/run-cli.js';

// Preloaded into the server: at exit it writes the list of Node's own modules the process loaded.
const RECORD_MODULES = `data:text/javascript,import { writeFileSync } from 'node:fs';
process.on('exit', () => writeFileSync(process.env.SKIFF_TEST_MODULE_LIST, process.moduleLoadList.join('\\n')));`;

test('skiff serve never loads undici (fetch, WebSocket) while it serves: an ES import of node:http would', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-modules-'));
  const listFile = path.join(dir, 'modules.txt');
  const server = await startCli(
    ['--model', fixtureModel('tabular-linear'), '--host', '127.0.0.1', '--port', '0'],
    {
      env: { SKIFF_TEST_MODULE_LIST: listFile, SKIFF_LOG_FORMAT: 'json', SKIFF_GRPC_PORT: '-1' },
      nodeArgs: [`--import=${RECORD_MODULES}`],
    },
  );
  const url = server.url;
  let code: number | null;
  try {
    // One request on each of the paths a request takes: HTTP in, inference, metrics.
    const infer = await fetch(`${url}/v2/models/tabular-linear/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
      }),
    });
    assert.equal(infer.status, 200, await infer.text());
    assert.equal((await fetch(`${url}/metrics`)).status, 200);
  } finally {
    code = await server.stop('SIGTERM');
  }
  try {
    assert.equal(code, 0);
    const loaded = readFileSync(listFile, 'utf8').split('\n');
    // The list is the real one: the server did load Node's HTTP server.
    assert.ok(loaded.includes('NativeModule _http_server'), loaded.join(', '));
    assert.deepEqual(
      loaded.filter((name) => name.includes('undici')),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
