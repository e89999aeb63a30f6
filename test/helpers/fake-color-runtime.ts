// Test support: a fake model with slow-color's contract, for tests about time (request timeouts, closing,
// overload) whose outcome must not depend on how fast this machine runs the real fixture.
import type { Tensor, TensorInfo } from '../../src/core/tensor/tensor.js';
import type { FakeCall, Respond } from '../../src/core/testing/fake-loaded-model.js';
import { FakeLoadedModel } from '../../src/core/testing/fake-loaded-model.js';
import { FakeRuntime } from '../../src/core/testing/fake-runtime.js';

const INPUT: TensorInfo = { name: 'input', type: 'FP32', shape: [-1, 3, 224, 224] };
const OUTPUT: TensorInfo = { name: 'logits', type: 'FP32', shape: [-1, 4] };

/** One row of logits per row of the call's batch, red winning (as the real model does for a red image). */
export function colorLogits(call: FakeCall): Record<string, Tensor> {
  const rows = call.inputs[INPUT.name]?.shape[0] ?? 1;
  const data = new Float32Array(rows * 4);
  for (let row = 0; row < rows; row++) data[row * 4] = 10;
  return { [OUTPUT.name]: { type: 'FP32', shape: [rows, 4], data } };
}

/** Answers every call at once with `colorLogits`. */
export const answerColor: Respond = (call) => Promise.resolve(colorLogits(call));

/**
 * A runtime whose model takes `slow-color/model.onnx`'s inputs and outputs (so the real server, codec and
 * preprocessing serve it as they serve that fixture) and answers as `respond` says. Start the server with
 * `fixtureModel('slow-color/model.onnx')`: the file and its labels must exist, though the fake never reads it.
 */
export function fakeColorRuntime(respond: Respond): { model: FakeLoadedModel; runtime: FakeRuntime } {
  const model = new FakeLoadedModel([INPUT], [OUTPUT], respond);
  // Claiming warmed-up instances skips the server's warm-up inference, so every call the fake sees (and
  // every call a test holds) is a request's.
  model.warmedUp = true;
  return { model, runtime: new FakeRuntime(() => Promise.resolve(model)) };
}
