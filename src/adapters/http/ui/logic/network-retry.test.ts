import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNetworkRetry } from './network-retry.js';

function flaky(failures: readonly Error[]): { send: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    send: () => {
      const failure = failures[calls];
      calls += 1;
      return failure === undefined ? Promise.resolve(`answer ${calls}`) : Promise.reject(failure);
    },
    calls: () => calls,
  };
}

test('a request the network dropped is sent again after each delay, and its answer returned', async () => {
  const slept: number[] = [];
  const sleep = (ms: number): Promise<void> => {
    slept.push(ms);
    return Promise.resolve();
  };
  const twice = flaky([new TypeError('Failed to fetch'), new TypeError('Failed to fetch')]);
  assert.equal(await withNetworkRetry(twice.send, [10, 40], sleep), 'answer 3');
  assert.deepEqual(slept, [10, 40]);
});

test('after the last delay the network error reaches the caller', async () => {
  const always = flaky([new TypeError('a'), new TypeError('b'), new TypeError('c')]);
  await assert.rejects(
    withNetworkRetry(always.send, [1, 1], () => Promise.resolve()),
    (error: unknown) => error instanceof TypeError && error.message === 'c',
  );
  assert.equal(always.calls(), 3);
});

test('an error that is not the network failing is not retried', async () => {
  const broken = flaky([new SyntaxError('bad JSON')]);
  await assert.rejects(
    withNetworkRetry(broken.send, [1, 1], () => Promise.resolve()),
    SyntaxError,
  );
  assert.equal(broken.calls(), 1);
});

test('the default delays wait for real', async () => {
  const once = flaky([new TypeError('Failed to fetch')]);
  const started = Date.now();
  assert.equal(await withNetworkRetry(once.send, [30]), 'answer 2');
  assert.ok(Date.now() - started >= 25);
});
