import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../errors.js';
import { publicFailureReason, withoutPaths } from './public-reason.js';

test('Skiff messages keep their words but lose the folders of every path', () => {
  assert.equal(
    publicFailureReason(
      new SkiffError('SKIFF_LABELS_INVALID', 'labels file /srv/skiff/models/dogs/labels.txt is empty'),
    ),
    'labels file labels.txt is empty',
  );
  assert.equal(
    withoutPaths('cannot read C:\\models\\x\\model.json (EACCES)'),
    'cannot read model.json (EACCES)',
  );
  assert.equal(
    withoutPaths('a ratio of 3/4 and ./relative/name stay'),
    'a ratio of 3/4 and ./relative/name stay',
  );
});

test("the runtime's own text and crashes are replaced by a sentence and the code", () => {
  const ort = new SkiffError(
    'SKIFF_MODEL_LOAD_FAILED',
    'Load model from /tmp/x/model.onnx failed: onnxruntime::Graph::Resolve /onnxruntime_src/core/graph/graph.cc:1234',
  );
  const reason = publicFailureReason(ort);
  assert.match(reason, /\[SKIFF_MODEL_LOAD_FAILED\]; the server log has the details$/);
  assert.doesNotMatch(reason, /tmp|onnxruntime::|graph\.cc/);
  assert.equal(
    publicFailureReason(new Error('ENOENT /etc/secret')),
    'it failed to load [SKIFF_INTERNAL]; the server log has the details',
  );
});
