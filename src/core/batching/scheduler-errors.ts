import { SkiffError } from '../errors.js';

/** The answer to a request that finds the model's queue full. */
export function queueFull(maxQueueSize: number): SkiffError {
  return new SkiffError(
    'SKIFF_QUEUE_FULL',
    `the model's queue is full (${maxQueueSize} requests waiting); retry later`,
  );
}

/** The answer to a request that waited its whole allowance in a queue without starting. */
export function queueTimeout(waitedMs: number): SkiffError {
  return new SkiffError(
    'SKIFF_TIMEOUT',
    `the request waited ${waitedMs} ms for the model without starting; the server is overloaded, retry later`,
  );
}

/** The answer to a request submitted once the model has begun unloading. */
export function unloading(): SkiffError {
  return new SkiffError('SKIFF_SHUTTING_DOWN', 'the model is unloading; retry on another replica');
}

/** The answer to a request still queued when the model is unloaded. */
export function unloadedBeforeRun(): SkiffError {
  return new SkiffError('SKIFF_SHUTTING_DOWN', 'the model was unloaded before this request ran');
}
