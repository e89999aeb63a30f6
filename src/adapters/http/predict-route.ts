import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HttpAppOptions } from './http-app.js';
import { SkiffError } from '../../core/errors.js';
import type { RequestContext } from '../../core/request/request-context.js';
import { tensorToRows } from '../decode/tensor-rows.js';
import { contextOf, jsonBytes } from './http-context.js';
import { bufferedBody } from './read-body.js';
import { FORM_LIMITS, isFilePart, parseMultipart } from './multipart-body.js';

export const PREDICT_USAGE =
  'send the image as a multipart/form-data file field named "image" (curl -F image=@dog.jpg), or as the raw body with Content-Type image/*';

interface PredictQuery {
  readonly top_k?: string;
  readonly model?: string;
  readonly details?: string;
}

/**
 * The seed's route: an image in, `{"success": true, "predictions": [{label, probability}, ...]}` out.
 * `?details=1` adds each class index and its full label without changing the seed's fields.
 */
export async function registerPredictRoute(app: FastifyInstance, options: HttpAppOptions): Promise<void> {
  await app.register(async (scope) => {
    // Forms are read whole, like every other body, so that --max-body-bytes (the bodyLimit) counts each byte,
    // preamble and epilogue included; the parts are then views into that one Buffer. Only /predict takes them.
    scope.addContentTypeParser('multipart/form-data', bufferedBody);
    registerRoute(scope, options);
  });
}

function registerRoute(app: FastifyInstance, options: HttpAppOptions): void {
  app.post<{ Querystring: PredictQuery }>(
    '/predict',
    { config: { inference: true } },
    async (request, reply) => {
      const { top_k: topKText, model, details } = request.query;
      const context = contextOf(request);
      if (/^application\/json/i.test(request.headers['content-type'] ?? '')) {
        return reply.send(await scoreRows(context, options, model, request.body));
      }
      const k = topKText === undefined ? options.defaultTopK : parseTopK(topKText);
      const image = readImage(request);
      const result = await options.service.classifyImage(context, model, image, k);
      const withDetails = details === '1' || details === 'true';
      return reply.send({
        success: true,
        predictions: result.predictions.map((p) =>
          withDetails
            ? { label: p.label, probability: p.probability, index: p.index, full_label: p.fullLabel }
            : { label: p.label, probability: p.probability },
        ),
        ...(withDetails ? { model: result.model } : {}),
      });
    },
  );
}

function parseTopK(text: string): number {
  if (!/^\d{1,4}$/.test(text))
    throw new SkiffError(
      'SKIFF_BAD_PARAMETER',
      `top_k must be a positive whole number, got "${text.slice(0, 20)}"`,
    );
  return Number(text);
}

function readImage(request: FastifyRequest): Uint8Array {
  const type = request.headers['content-type'] ?? '';
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (/^multipart\/form-data\s*(;|$)/i.test(type)) return imageFromForm(body, type);
  if (/^(image\/|application\/octet-stream)/i.test(type)) {
    if (body.length === 0)
      throw new SkiffError('SKIFF_EMPTY_IMAGE', 'the request body is empty; ' + PREDICT_USAGE);
    return body;
  }
  if (type === '') throw new SkiffError('SKIFF_MISSING_IMAGE', `no image in the request; ${PREDICT_USAGE}`);
  throw new SkiffError(
    'SKIFF_UNSUPPORTED_MEDIA_TYPE',
    `content type "${type.split(';')[0] ?? type}" is not accepted by /predict; ${PREDICT_USAGE}`,
  );
}

/** The file field "image"; any other field is only named in the error when there is none. */
function imageFromForm(body: Buffer, type: string): Buffer {
  const seen: string[] = [];
  let image: Buffer | undefined;
  for (const part of parseMultipart(body, type, FORM_LIMITS)) {
    if (part.name === 'image' && isFilePart(part)) image = part.data;
    else seen.push(part.name);
  }
  if (image === undefined) {
    const found = seen.length === 0 ? 'no fields' : `fields ${seen.map((s) => `"${s}"`).join(', ')}`;
    throw new SkiffError(
      'SKIFF_MISSING_IMAGE',
      `the form has no file field "image" (found ${found}); ${PREDICT_USAGE}`,
    );
  }
  if (image.length === 0) throw new SkiffError('SKIFF_EMPTY_IMAGE', 'the "image" file is empty (0 bytes)');
  return image;
}

/**
 * The seed's JSON form: `{"X": [features]}` scores one row, `{"X": [[...], [...]]}` many. A model with one
 * value per row answers numbers, otherwise lists.
 */
async function scoreRows(
  context: RequestContext,
  options: HttpAppOptions,
  modelName: string | undefined,
  body: unknown,
): Promise<{ score: unknown }> {
  const { service, decoder } = options;
  const model = service.model(modelName);
  const metadata = service.modelMetadata(model.name);
  const [input, ...more] = metadata.inputs;
  if (input === undefined || more.length > 0 || input.shape.length !== 2) {
    throw new SkiffError(
      'SKIFF_BAD_TENSOR',
      `{"X": ...} needs a model with one 2-D input [rows, features]; model "${model.name}" has ${metadata.inputs.map((i) => `${i.name} [${i.shape.join(',')}]`).join(', ')}`,
    );
  }
  const { tensor, single } = await decoder.decode(
    { kind: 'rows', body: jsonBytes(body), input },
    context.signal,
  );
  const response = await service.inferTensors(context, {
    model: model.name,
    inputs: { [input.name]: tensor },
  });
  const output = response.outputs[0];
  if (output === undefined) throw new SkiffError('SKIFF_INFERENCE_FAILED', 'the model returned no output');
  const rows = tensorToRows(output.tensor).map((row) =>
    Array.isArray(row) && row.length === 1 ? (row[0] as unknown) : row,
  );
  return { score: single ? rows[0] : rows };
}
