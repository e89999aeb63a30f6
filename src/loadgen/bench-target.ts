import type { HttpClient, RequestSpec } from './http-client.js';
import { errorMessage } from './http-client.js';
import { multipartBody } from './multipart-body.js';
import { oipInferRequest, oipInputs } from './oip-infer-request.js';
import { randomPng } from './random-png.js';
import type { Send } from './step-tally.js';

export type BenchProtocol = 'predict' | 'v2';

export interface ImageFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface TargetOptions {
  readonly protocol: BenchProtocol;
  /** The served model's name; unset: /predict's default model, or for v2 the repository's only model. */
  readonly model?: string | undefined;
  /** /predict only; none: a noise (or black) PNG of imageSize x imageSize. */
  readonly images: readonly ImageFile[];
  readonly imageSize: number;
  readonly inputData: 'random' | 'zero';
  /** v2 only: binary tensor data instead of JSON numbers. */
  readonly binaryData: boolean;
}

export interface Target {
  readonly send: Send;
  /** One line for the report: what each request carries and where it goes. */
  readonly description: string;
}

/** Prepares the request bodies once (reading model metadata for v2), then returns a sender cycling over them. */
/** What preparing and sending needs of a client: HttpClient, or the bench's LeanHttpClient. */
export type TargetClient = Pick<HttpClient, 'send' | 'getJson'>;

export async function prepareTarget(client: TargetClient, options: TargetOptions): Promise<Target> {
  const { specs, description } =
    options.protocol === 'v2' ? await v2Requests(client, options) : predictRequests(options);
  let next = 0;
  const send: Send = async () => {
    const spec = specs[next++ % specs.length] as RequestSpec;
    try {
      const reply = await client.send(spec);
      if (reply.status === 200) return { ok: true, status: 200 };
      return { ok: false, status: reply.status, message: errorMessage(reply.body.toString('utf8')) };
    } catch (error) {
      return { ok: false, status: 0, message: error instanceof Error ? error.message : String(error) };
    }
  };
  return { send, description };
}

function predictRequests(options: TargetOptions): { specs: RequestSpec[]; description: string } {
  const path =
    options.model === undefined ? '/predict' : `/predict?model=${encodeURIComponent(options.model)}`;
  const files =
    options.images.length > 0
      ? options.images
      : [
          {
            name: `${options.inputData}.png`,
            bytes: randomPng(options.imageSize, options.imageSize, options.inputData),
          },
        ];
  const specs = files.map((file): RequestSpec => {
    const { body, contentType } = multipartBody('image', file.name, mediaTypeOf(file.name), file.bytes);
    return { method: 'POST', path, headers: { 'content-type': contentType }, body };
  });
  const what =
    options.images.length > 0
      ? `${files.length} image file(s), ${describeSizes(files)}`
      : `a ${options.imageSize}x${options.imageSize} ${options.inputData === 'zero' ? 'black' : 'noise'} PNG (${kb(files[0]?.bytes.length ?? 0)})`;
  return { specs, description: `POST ${path}, multipart: ${what}` };
}

async function v2Requests(
  client: TargetClient,
  options: TargetOptions,
): Promise<{ specs: RequestSpec[]; description: string }> {
  if (options.images.length > 0)
    throw new Error(
      '--image goes with --protocol predict; v2 requests carry tensors built from the model metadata',
    );
  const model = options.model ?? (await onlyModel(client));
  const base = `/v2/models/${encodeURIComponent(model)}`;
  const inputs = oipInputs(await client.getJson(base));
  const { body, headers } = oipInferRequest(inputs, options.inputData, options.binaryData);
  const shapes = inputs.map(
    (i) => `${i.name} ${i.datatype} [${i.shape.map((d) => (d < 0 ? 1 : d)).join(',')}]`,
  );
  return {
    specs: [{ method: 'POST', path: `${base}/infer`, headers, body }],
    description: `POST ${base}/infer, ${options.inputData} ${shapes.join('; ')} as ${options.binaryData ? 'binary' : 'JSON'} (${kb(body.length)})`,
  };
}

/**
 * The server's only model, when it says: the ready models of the OIP repository extension, else KServe
 * V1's list of models (which every Skiff server answers); with several, or neither, the user must name it.
 */
async function onlyModel(client: TargetClient): Promise<string> {
  const json = async (method: 'GET' | 'POST', path: string): Promise<unknown> =>
    client
      .send({
        method,
        path,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        ...(method === 'POST' ? { body: Buffer.from('{}') } : {}),
      })
      .then((reply) =>
        reply.status === 200 ? (JSON.parse(reply.body.toString('utf8')) as unknown) : undefined,
      )
      .catch(() => undefined);
  const index = (await json('POST', '/v2/repository/index')) as
    { name?: unknown; state?: unknown }[] | undefined;
  let names = Array.isArray(index)
    ? [...new Set(index.filter((m) => m.state === 'READY').map((m) => String(m.name)))]
    : [];
  if (!Array.isArray(index)) {
    const listed = (await json('GET', '/v1/models')) as { models?: unknown } | undefined;
    if (Array.isArray(listed?.models)) names = listed.models.map(String);
  }
  if (names.length === 1 && names[0] !== undefined) return names[0];
  throw new Error(
    `--protocol v2 needs --model <name>${names.length > 1 ? `; the server has ${names.join(', ')}` : ''}`,
  );
}

function mediaTypeOf(name: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (extension === 'jpg' || extension === 'jpeg') return 'image/jpeg';
  if (
    extension === 'png' ||
    extension === 'webp' ||
    extension === 'gif' ||
    extension === 'avif' ||
    extension === 'tiff'
  )
    return `image/${extension}`;
  return 'application/octet-stream';
}

function describeSizes(files: readonly ImageFile[]): string {
  const sizes = files.map((f) => f.bytes.length);
  return files.length === 1 ? kb(sizes[0] ?? 0) : `${kb(Math.min(...sizes))} to ${kb(Math.max(...sizes))}`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}
