// Worker thread entry, started by an inference worker that takes uploads: decodes each one and packs it into the
// model's input. The inference worker's thread is blocked for the whole of every ORT run, so whatever it does
// between two runs leaves the model idle; the codec's synchronous parts (sharp setting up its pipeline, the resize,
// the packing: about 1.2 ms an image) ran there before this thread took them.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromImageThread, PackedData, ToImageThread } from './worker-messages.js';
import type { ImageCodec } from '../../core/preprocess/image-codec.js';
import { loadCodec, prepareUpload } from './decode-upload.js';
import { errorMessage } from './create-session.js';

const port = parentPort;
if (port === null) throw new Error('image-prep-worker must run in a worker thread');
const { imageCodecModule } = workerData as { imageCodecModule: string };

/**
 * Inputs the inference worker has run and given back, packed into again. With the worker holding a few jobs,
 * a few buffers go round; more than that are left to the collector.
 */
const spare: PackedData[] = [];
const MAX_SPARE = 4;

function post(message: FromImageThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function prepare(
  codec: ImageCodec,
  message: Extract<ToImageThread, { kind: 'prepare' }>,
): Promise<void> {
  const { id, image, input } = message;
  const prepared = await prepareUpload(codec, id, image, input, () => spare.pop());
  if ('failure' in prepared) {
    post(prepared.failure);
    return;
  }
  const { tensor } = prepared;
  post({ kind: 'prepared', id, tensor }, [(tensor.data as PackedData).buffer as ArrayBuffer]);
}

let codec: ImageCodec | undefined;
try {
  codec = await loadCodec(imageCodecModule);
} catch (error) {
  post({ kind: 'load-failed', message: errorMessage(error) });
}
if (codec !== undefined) {
  const loaded = codec;
  port.on('message', (message: ToImageThread) => {
    if (message.kind === 'give-back') {
      if (spare.length < MAX_SPARE) spare.push(message.data);
    } else void prepare(loaded, message);
  });
  post({ kind: 'ready' });
}
