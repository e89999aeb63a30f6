import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClassifierOutputContract, OutputKind } from './model-config.js';
import type { Prediction } from './classification.js';
import type { Tensor } from '../tensor/tensor.js';
import { softmax, topK } from './classification.js';
import { labelsFromList } from './labels.js';
import { makeTensor, numberToFloat16 } from '../tensor/tensor.js';

/** Probabilities below are hand-computed (e.g. softmax(ln 1, ln 2, ln 3, ln 4) = 0.1, 0.2, 0.3, 0.4); float error only. */
const TOLERANCE = 1e-12;

function assertClose(actual: readonly number[], expected: readonly number[], tolerance = TOLERANCE): void {
  assert.equal(actual.length, expected.length, `length: ${actual.length} vs ${expected.length}`);
  actual.forEach((value, i) => {
    assert.ok(
      Math.abs(value - (expected[i] ?? NaN)) <= tolerance,
      `element ${i}: ${value} vs ${expected[i]}`,
    );
  });
}

/** Checks everything but the probability exactly, and the probability within `tolerance`. */
function assertPredictions(actual: Prediction[], expected: Prediction[], tolerance = TOLERANCE): void {
  const strip = (p: Prediction): Omit<Prediction, 'probability'> => ({
    index: p.index,
    label: p.label,
    fullLabel: p.fullLabel,
  });
  assert.deepEqual(actual.map(strip), expected.map(strip));
  assertClose(
    actual.map((p) => p.probability),
    expected.map((p) => p.probability),
    tolerance,
  );
}

function rows(values: readonly number[], batch = 1): Tensor {
  return makeTensor('FP64', [batch, values.length / batch], Float64Array.from(values));
}

function contract(
  classCount: number,
  kind: OutputKind = 'logits',
  backgroundClass = false,
): ClassifierOutputContract {
  return { name: 'out', kind, backgroundClass, classCount };
}

const LN = [1, 2, 3, 4].map(Math.log) as [number, number, number, number];
const FOUR = labelsFromList([
  'tench, Tinca tinca',
  'goldfish, Carassius auratus',
  'great white shark, white shark',
  'golden retriever',
]);

describe('softmax', () => {
  test('matches hand-computed values', () => {
    assertClose([...softmax(Float64Array.of(0, Math.log(3)))], [0.25, 0.75]);
    assertClose([...softmax(Float64Array.from(LN))], [0.1, 0.2, 0.3, 0.4]);
    assertClose([...softmax(Float64Array.of(5, 5, 5, 5))], [0.25, 0.25, 0.25, 0.25]);
    assertClose([...softmax(Float64Array.of(-7))], [1]);
  });

  test('is shift-invariant and does not overflow on large logits', () => {
    assertClose([...softmax(Float64Array.of(1000, 1000 + Math.log(3)))], [0.25, 0.75]);
    assertClose([...softmax(Float64Array.of(-1000, -1000 + Math.log(3)))], [0.25, 0.75]);
  });

  test('a -Infinity logit next to finite ones has probability 0', () => {
    assertClose([...softmax(Float64Array.of(-Infinity, 0, 0))], [0, 0.5, 0.5]);
  });

  test('non-finite scores are SKIFF_INFERENCE_FAILED', () => {
    for (const values of [[Infinity, 0], [-Infinity, -Infinity], [NaN], [0, Infinity, NaN]]) {
      assert.throws(
        () => softmax(Float64Array.from(values)),
        {
          name: 'SkiffError',
          code: 'SKIFF_INFERENCE_FAILED',
          message: 'the model produced non-finite scores',
        },
        `values ${values.join(',')}`,
      );
    }
  });

  test('a NaN logit among finite ones is SKIFF_INFERENCE_FAILED', () => {
    assert.throws(() => softmax(Float64Array.of(1, NaN, 2)), { code: 'SKIFF_INFERENCE_FAILED' });
  });
});

describe('topK', () => {
  test('logits: softmax, largest first, labels by index', () => {
    const output = rows([LN[0], LN[3], LN[1], LN[2]]);
    assertPredictions(topK(output, 0, contract(4), FOUR, 3), [
      { index: 1, label: 'goldfish', fullLabel: 'goldfish, Carassius auratus', probability: 0.4 },
      { index: 3, label: 'golden_retriever', fullLabel: 'golden retriever', probability: 0.3 },
      { index: 2, label: 'great_white_shark', fullLabel: 'great white shark, white shark', probability: 0.2 },
    ]);
  });

  test('ties keep the lower index first, also when the tie is at the cut-off', () => {
    const tied = rows([2, 2, 0, 2]);
    assert.deepEqual(
      topK(tied, 0, contract(4), undefined, 4).map((p) => p.index),
      [0, 1, 3, 2],
    );
    assert.deepEqual(
      topK(tied, 0, contract(4), undefined, 2).map((p) => p.index),
      [0, 1],
    );
    assert.deepEqual(
      topK(rows([0, 3, 3]), 0, contract(3), undefined, 1).map((p) => p.index),
      [1],
    );
    assert.deepEqual(
      topK(rows([1, 0, 3, 3, 2]), 0, contract(5), undefined, 3).map((p) => p.index),
      [2, 3, 4],
    );
  });

  test('k larger than the class count returns every class once', () => {
    const predictions = topK(rows([LN[2], LN[0], LN[1]]), 0, contract(3), undefined, 10);
    assertPredictions(predictions, [
      { index: 0, label: '0', fullLabel: '0', probability: 0.5 },
      { index: 2, label: '2', fullLabel: '2', probability: 2 / 6 },
      { index: 1, label: '1', fullLabel: '1', probability: 1 / 6 },
    ]);
  });

  test('without labels, label and fullLabel are the index', () => {
    const [best] = topK(rows([0, 1]), 0, contract(2), undefined, 1);
    assert.deepEqual(best && { index: best.index, label: best.label, fullLabel: best.fullLabel }, {
      index: 1,
      label: '1',
      fullLabel: '1',
    });
  });

  test('reads the requested row of a batch', () => {
    const batch = rows([9, 0, 0, 0, /* row 1 */ LN[1], LN[0], LN[3], LN[2]], 2);
    assertPredictions(topK(batch, 1, contract(4), FOUR, 2), [
      { index: 2, label: 'great_white_shark', fullLabel: 'great white shark, white shark', probability: 0.4 },
      { index: 3, label: 'golden_retriever', fullLabel: 'golden retriever', probability: 0.3 },
    ]);
  });

  test('background class: index 0 is dropped before softmax, indices shift by one and labels stay aligned', () => {
    // Five outputs; output 0 is background with the largest logit, which must not take any probability.
    const output = rows([9, LN[0], LN[1], LN[2], LN[3]]);
    assertPredictions(topK(output, 0, contract(5, 'logits', true), FOUR, 4), [
      { index: 3, label: 'golden_retriever', fullLabel: 'golden retriever', probability: 0.4 },
      { index: 2, label: 'great_white_shark', fullLabel: 'great white shark, white shark', probability: 0.3 },
      { index: 1, label: 'goldfish', fullLabel: 'goldfish, Carassius auratus', probability: 0.2 },
      { index: 0, label: 'tench', fullLabel: 'tench, Tinca tinca', probability: 0.1 },
    ]);
  });

  test('background class in a batch: row r starts at r * classCount', () => {
    const batch = rows([0, 0, 0, 9, /* row 1 */ 9, 0, Math.log(3), 0], 2);
    assertPredictions(topK(batch, 1, contract(4, 'logits', true), undefined, 1), [
      { index: 1, label: '1', fullLabel: '1', probability: 0.6 },
    ]);
  });

  test('probabilities are renormalised over the real classes once background is dropped', () => {
    const output = rows([0.5, 0.125, 0.25, 0.125]);
    assertPredictions(topK(output, 0, contract(4, 'probabilities', true), undefined, 3), [
      { index: 1, label: '1', fullLabel: '1', probability: 0.5 },
      { index: 0, label: '0', fullLabel: '0', probability: 0.25 },
      { index: 2, label: '2', fullLabel: '2', probability: 0.25 },
    ]);
  });

  test('probabilities are not put through softmax, but are normalised to sum to 1', () => {
    assertPredictions(topK(rows([2, 6]), 0, contract(2, 'probabilities'), undefined, 2), [
      { index: 1, label: '1', fullLabel: '1', probability: 0.75 },
      { index: 0, label: '0', fullLabel: '0', probability: 0.25 },
    ]);
  });

  test('probabilities that do not sum to a positive finite number are SKIFF_INFERENCE_FAILED', () => {
    for (const values of [
      [0, 0],
      [0.5, NaN],
      [Infinity, 1],
      [-1, 0.5],
    ]) {
      assert.throws(
        () => topK(rows(values), 0, contract(2, 'probabilities'), undefined, 1),
        {
          code: 'SKIFF_INFERENCE_FAILED',
          message: 'the model produced probabilities that do not sum to a positive number',
        },
        `values ${values.join(',')}`,
      );
    }
  });

  test('non-finite logits are SKIFF_INFERENCE_FAILED', () => {
    assert.throws(() => topK(rows([0, Infinity, 1]), 0, contract(3), undefined, 1), {
      code: 'SKIFF_INFERENCE_FAILED',
      message: 'the model produced non-finite scores',
    });
  });

  test('FP16 outputs are decoded from their half bits (SqueezeNet-style [1, C, 1, 1] probabilities)', () => {
    const half = Uint16Array.from([0.125, 0.5, 0.25, 0.125], numberToFloat16);
    const output = makeTensor('FP16', [1, 4, 1, 1], half);
    assertPredictions(topK(output, 0, contract(4, 'probabilities'), FOUR, 2), [
      { index: 1, label: 'goldfish', fullLabel: 'goldfish, Carassius auratus', probability: 0.5 },
      {
        index: 2,
        label: 'great_white_shark',
        fullLabel: 'great white shark, white shark',
        probability: 0.25,
      },
    ]);
  });

  test('FP16 logits: softmax of the decoded values', () => {
    // 0, 2, -1 and 2 are exact in half precision.
    const output = makeTensor('FP16', [1, 4], Uint16Array.from([0, 2, -1, 2], numberToFloat16));
    const sum = 1 + 2 * Math.exp(2) + Math.exp(-1);
    assertPredictions(topK(output, 0, contract(4), undefined, 3), [
      { index: 1, label: '1', fullLabel: '1', probability: Math.exp(2) / sum },
      { index: 3, label: '3', fullLabel: '3', probability: Math.exp(2) / sum },
      { index: 0, label: '0', fullLabel: '0', probability: 1 / sum },
    ]);
  });

  test('FP32 outputs: results within float32 precision of the hand-computed values', () => {
    const output = makeTensor('FP32', [1, 4], Float32Array.from(LN));
    assertPredictions(
      topK(output, 0, contract(4), undefined, 4),
      [3, 2, 1, 0].map((index) => ({
        index,
        label: String(index),
        fullLabel: String(index),
        probability: (index + 1) / 10,
      })),
      1e-7,
    );
  });
});
