import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PixelBudget } from './pixel-budget.js';
import { ElementBudget } from './element-budget.js';
import { checkOutputs } from './check-request.js';

describe('PixelBudget', () => {
  test('takes shares until the limit, refuses beyond with SKIFF_DECODE_BUSY, and gets each share back once', () => {
    const budget = new PixelBudget(100);
    const a = budget.take(60);
    const b = budget.take(40);
    assert.throws(() => budget.take(1), { code: 'SKIFF_DECODE_BUSY', kind: 'resource_exhausted' });
    a();
    a();
    assert.equal(budget.inUse, 40);
    const c = budget.take(60);
    b();
    c();
    assert.equal(budget.inUse, 0);
  });

  test('an image larger than the whole budget still decodes when nothing else does', () => {
    const budget = new PixelBudget(10);
    const release = budget.take(50);
    assert.throws(() => budget.take(1), { code: 'SKIFF_DECODE_BUSY' });
    release();
    assert.equal(budget.inUse, 0);
  });
});

describe('ElementBudget', () => {
  const limits = { maxTensorElements: 100, maxRequestElements: 150, maxBytesElements: 10 };

  test('per tensor, per request, and BYTES elements, each named in its refusal', () => {
    const budget = new ElementBudget(limits);
    budget.add('a', 'FP32', [10, 10]);
    assert.throws(() => budget.add('b', 'FP32', [101]), {
      code: 'SKIFF_TENSOR_TOO_LARGE',
      message:
        /input "b": shape \[101\] has 101 elements, more than the limit of 100 \(--max-tensor-elements\)/,
    });
    assert.throws(() => new ElementBudget(limits).add('c', 'FP32', [2 ** 27, 2 ** 27]), {
      code: 'SKIFF_TENSOR_TOO_LARGE',
    });
    const request = new ElementBudget(limits);
    request.add('a', 'FP32', [100]);
    assert.throws(() => request.add('b', 'FP32', [51]), { message: /--max-request-elements/ });
    const strings = new ElementBudget(limits);
    strings.add('s', 'BYTES', [10]);
    assert.throws(() => strings.add('t', 'BYTES', [1]), {
      message: /11 BYTES elements.*--max-bytes-elements/,
    });
  });
});

describe('checkOutputs', () => {
  const declared = [{ name: 'logits', type: 'FP32' as const, shape: [-1, 10] }];

  test('an output named twice is refused, whatever its parameters', () => {
    assert.throws(
      () => checkOutputs('m', declared, [{ name: 'logits', classification: 3 }, { name: 'logits' }]),
      { code: 'SKIFF_BAD_TENSOR', message: 'output "logits" is requested more than once' },
    );
    const many = Array.from({ length: 20_000 }, () => ({ name: 'logits', classification: 1000 }));
    assert.throws(() => checkOutputs('m', declared, many), { code: 'SKIFF_BAD_TENSOR' });
  });

  test('unknown outputs and bad classification counts are refused; good ones pass', () => {
    assert.throws(() => checkOutputs('m', declared, [{ name: 'nope' }]), { message: /has no output "nope"/ });
    for (const n of [0, -1, 1.5, 2 ** 60])
      assert.throws(() => checkOutputs('m', declared, [{ name: 'logits', classification: n }]), {
        code: 'SKIFF_BAD_PARAMETER',
      });
    checkOutputs('m', declared, [{ name: 'logits', classification: 5 }]);
    checkOutputs('m', declared, []);
  });
});
