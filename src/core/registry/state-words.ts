import type { ModelState } from './served-model.js';

/** A model's state in the words of a sentence: `model "x" is loading: <reason>`. */
export const STATE_WORDS = {
  loading: 'is loading',
  'warming-up': 'is warming up',
  ready: 'is ready',
  failed: 'failed to load',
  unloading: 'is unloading',
} as const satisfies Record<ModelState, string>;
