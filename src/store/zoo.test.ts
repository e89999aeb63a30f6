import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SkiffError } from '../core/errors.js';
import { ZOO, findZooEntry, zooFileUrl, zooNames } from './zoo.js';

describe('zoo', () => {
  it('pins every file to the onnx/models commit on GitHub by default', () => {
    assert.equal(
      zooFileUrl(ZOO.resnet50.model),
      'https://github.com/onnx/models/raw/b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d/validated/vision/classification/resnet/model/resnet50-v1-12.onnx',
    );
    for (const name of zooNames()) {
      const entry = ZOO[name];
      assert.equal(entry.name, name);
      assert.match(entry.model.sha256, /^[0-9a-f]{64}$/);
      assert.equal(entry.labels.path, 'validated/vision/classification/synset.txt');
      assert.ok(Object.isFrozen(entry.config.input));
    }
    assert.equal(findZooEntry('resnet50'), ZOO.resnet50);
  });

  it('joins a mirror base URL with or without its trailing slash', () => {
    const expected =
      'http://127.0.0.1:8080/zoo/validated/vision/classification/resnet/model/resnet50-v1-12.onnx';
    assert.equal(zooFileUrl(ZOO.resnet50.model, 'http://127.0.0.1:8080/zoo/'), expected);
    assert.equal(zooFileUrl(ZOO.resnet50.model, 'http://127.0.0.1:8080/zoo'), expected);
    assert.throws(() => zooFileUrl(ZOO.resnet50.model, 'ftp://mirror/'), SkiffError);
  });

  it('matches exact names only', () => {
    assert.equal(findZooEntry('ResNet50'), undefined);
    assert.equal(findZooEntry('constructor'), undefined);
    assert.equal(findZooEntry('__proto__'), undefined);
  });
});
