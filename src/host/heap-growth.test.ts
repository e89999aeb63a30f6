import { test } from 'node:test';
import assert from 'node:assert/strict';
import { widenHeapGrowth } from './heap-growth.js';

test("the heap growth is left alone when node's own command line set it", () => {
  assert.equal(widenHeapGrowth(['--heap-growing-percent=50']), false);
  assert.equal(widenHeapGrowth(['--inspect', '--heap_growing_percent', '300']), false);
});
