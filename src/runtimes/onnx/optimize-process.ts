// Child process entry: optimizes one model, saves its graph to the optimized-graph cache and exits. Run by
// optimizeApart (optimize-apart.ts) on a model's first start, so that what optimizing allocates (the
// model's protobuf, the weights before and after fusion: ~300 MB for ResNet50) goes back to the system with
// the process, instead of staying in a worker's malloc arenas for the server's whole life.
import './without-float16-array.js';
import type { WorkerInit } from './worker-messages.js';
import { errorMessage, saveOptimizedGraph } from './create-session.js';

const init = JSON.parse(process.argv[2] ?? '{}') as WorkerInit;
let answer: string;
try {
  const outcome = await saveOptimizedGraph(init);
  answer = JSON.stringify(outcome ?? { outcome: 'busy' });
} catch (error) {
  answer = JSON.stringify({ outcome: 'failed', detail: errorMessage(error) });
}
// Pipes are written synchronously on Linux, so exiting right away loses nothing; ORT's own threads must
// not keep the process up.
process.stdout.write(answer);
process.exit(0);
