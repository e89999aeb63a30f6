// Over 300 lines because it is one table, one row per `skiff serve` option: read whole, it is its own index.
import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';
import { LOG_LEVELS } from '../core/logger.js';
import {
  CACHE_DIR_OPTION,
  MODEL_SHA256_OPTION,
  THREADS_PER_WORKER_OPTION,
  VERBOSE_OPTION,
  WORKERS_OPTION,
} from './shared-options.js';

const positiveInt = z.number().int().positive();
const port = z.number().int().min(0).max(65535);

/** Every `skiff serve` option, its default and its limit, in the order --help lists them. */
export const SERVE_OPTIONS = [
  {
    key: 'model',
    type: 'string',
    placeholder: 'path|url|name',
    description:
      'ONNX model: a file, a directory holding model.onnx, an http(s) URL, mobilenetv2-int8 (ships with Skiff), or a zoo name, downloaded once (resnet50, resnet50-int8, resnet50-v2, mobilenetv2, squeezenet1.1)',
    defaultLabel: 'mobilenetv2-int8',
    schema: z.string().min(1).default('mobilenetv2-int8'),
  },
  {
    key: 'modelRepository',
    type: 'string',
    placeholder: 'dir',
    description:
      'serve every model in a Triton-layout repository (<dir>/<name>/[<version>/]model.onnx + model.json); replaces --model',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'repositoryApi',
    type: 'boolean',
    description: 'enable the repository API (POST /v2/repository/index, .../models/{m}/load and /unload)',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
  {
    key: 'strictReadiness',
    type: 'boolean',
    description:
      'GET /v2/health/ready and gRPC ServerReady say ready only when every model is (OIP and Triton); --no-strict-readiness: ready once no model is loading and one is ready, a failed model reported by its own ready endpoint',
    defaultLabel: 'true',
    schema: z.boolean().default(true),
  },
  MODEL_SHA256_OPTION,
  {
    key: 'labels',
    type: 'string',
    placeholder: 'file',
    description: 'class labels, one per line (plain or synset "n01440764 tench, Tinca tinca") or JSON',
    defaultLabel: 'from model.json or the zoo entry',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'name',
    type: 'string',
    description: "the model's name in every API",
    defaultLabel: 'model file name without extension, or the zoo name',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use letters, digits, ".", "_" or "-" (at most 128)')
      .optional(),
  },
  {
    key: 'config',
    type: 'string',
    placeholder: 'file',
    description: "the model's input/output contract (model.json); see docs/model-config.md",
    defaultLabel: 'model.json next to the model, if present',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'host',
    type: 'string',
    description: 'address to listen on',
    defaultLabel: '0.0.0.0',
    schema: z.string().min(1).default('0.0.0.0'),
  },
  {
    key: 'port',
    short: 'p',
    type: 'integer',
    description: 'HTTP port (0 picks a free one)',
    defaultLabel: '5000',
    schema: port.default(5000),
  },
  {
    key: 'grpcPort',
    type: 'integer',
    description:
      'gRPC port for the Open Inference Protocol (0 picks a free one; --grpc-port=-1 turns gRPC off)',
    defaultLabel: '8081',
    schema: z.number().int().min(-1).max(65535).default(8081),
  },
  {
    key: 'topK',
    type: 'integer',
    description: 'predictions returned by /predict when the request does not say (?top_k=)',
    defaultLabel: '5',
    schema: positiveInt.max(1000).default(5),
  },
  WORKERS_OPTION,
  THREADS_PER_WORKER_OPTION,
  {
    key: 'maxQueueSize',
    type: 'integer',
    description: 'requests allowed to wait per model; beyond it requests get 503 at once',
    defaultLabel: '64',
    schema: z.number().int().min(0).max(100_000).default(64),
  },
  {
    key: 'requestTimeoutMs',
    type: 'integer',
    description:
      'longest a request may take, queue included, before it gets 504 and its work stops (0: no limit); a client may ask for less (x-request-timeout-ms, a gRPC deadline)',
    defaultLabel: '60000',
    schema: z.number().int().min(0).max(3_600_000).default(60_000),
  },
  {
    key: 'headersTimeoutMs',
    type: 'integer',
    description: 'a client must send its request headers within this time (slow clients are cut off)',
    defaultLabel: '10000',
    schema: z.number().int().min(1000).max(600_000).default(10_000),
  },
  {
    key: 'bodyTimeoutMs',
    type: 'integer',
    description: 'a client must send its whole request within this time',
    defaultLabel: '30000',
    schema: z.number().int().min(1000).max(3_600_000).default(30_000),
  },
  {
    key: 'modelLoadTimeoutMs',
    type: 'integer',
    description:
      "longest a model may take to load (session creation and warm-up), and each read of its files; past it the model fails (SKIFF_MODEL_LOAD_FAILED): --model stops start-up, a repository's other models serve on",
    defaultLabel: '300000 (5 min)',
    schema: z.number().int().min(1000).max(3_600_000).default(300_000),
  },
  {
    key: 'drainDelayMs',
    type: 'integer',
    description:
      'on SIGTERM, keep serving (unready) this long so load balancers stop sending, then close the listeners',
    defaultLabel: '5000',
    schema: z.number().int().min(0).max(600_000).default(5000),
  },
  {
    key: 'shutdownTimeoutMs',
    type: 'integer',
    description: 'after the drain delay, wait at most this long for requests in flight, then exit 1',
    defaultLabel: '20000',
    schema: z.number().int().min(0).max(3_600_000).default(20_000),
  },
  {
    key: 'authToken',
    type: 'string',
    placeholder: 'token',
    description:
      'require "Authorization: Bearer <token>" on every route (REST and gRPC) except health, /metrics and the web page files (/, /ui/assets/*)',
    defaultLabel: 'none (no auth)',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
  },
  {
    key: 'maxBodyBytes',
    type: 'integer',
    description: 'largest request body accepted (413 beyond)',
    defaultLabel: '20971520 (20 MiB)',
    schema: positiveInt.max(2 ** 31).default(20 * 1024 * 1024),
  },
  {
    key: 'maxImagePixels',
    type: 'integer',
    description: 'largest image accepted, in pixels (width x height), checked before decoding (413 beyond)',
    defaultLabel: '40000000',
    schema: positiveInt.default(40_000_000),
  },
  {
    key: 'maxTensorElements',
    type: 'integer',
    description:
      'most elements one input tensor may have (all protocols), checked from its shape before its data is converted (413 beyond)',
    defaultLabel: '8388608 (2^23: 32 MiB as FP32, a batch of 55 3x224x224 images)',
    schema: positiveInt.max(2 ** 31).default(2 ** 23),
  },
  {
    key: 'maxRequestElements',
    type: 'integer',
    description:
      'most elements of all the inputs of one request together, checked from their shapes before any data is converted (413 beyond)',
    defaultLabel: '16777216 (2^24)',
    schema: positiveInt.max(2 ** 31).default(2 ** 24),
  },
  {
    key: 'maxBytesElements',
    type: 'integer',
    description:
      'most BYTES (string) elements in one request: each becomes an object of its own, so millions of empty strings cost seconds (413 beyond)',
    defaultLabel: '65536',
    schema: positiveInt.max(2 ** 24).default(65_536),
  },
  {
    key: 'maxDecodePixels',
    type: 'integer',
    description:
      'pixels of all images being decoded at one moment, server-wide (a small PNG can unpack to hundreds of MB); a request that would pass it gets a fast 503 before decoding; at least --max-image-pixels',
    defaultLabel: '64000000 (about 256 MB of decoded RGBA)',
    schema: positiveInt.default(64_000_000),
  },
  {
    key: 'maxResponseBytes',
    type: 'integer',
    description:
      'largest response body, estimated from the outputs before they are encoded (413 beyond: ask for fewer outputs or binary data)',
    defaultLabel: '67108864 (64 MiB)',
    schema: positiveInt.max(2 ** 31).default(64 * 1024 * 1024),
  },
  {
    key: 'maxInstances',
    type: 'integer',
    description: 'most instances in one KServe V1 request (413 beyond)',
    defaultLabel: '64',
    schema: positiveInt.max(100_000).default(64),
  },
  {
    key: 'maxJsonDepth',
    type: 'integer',
    description: 'deepest nesting of a JSON body, checked before it is parsed (400 beyond)',
    defaultLabel: '32',
    schema: positiveInt.max(1000).default(32),
  },
  {
    key: 'decodeMemoryMb',
    type: 'integer',
    description:
      'heap of the worker thread that decodes large request bodies (JSON, protobuf); a body that needs more gets 413 and the worker is replaced',
    defaultLabel: '256',
    schema: positiveInt.min(32).max(16_384).default(256),
  },
  {
    key: 'maxUrlBytes',
    type: 'integer',
    description: 'longest request URL (414 beyond)',
    defaultLabel: '8192',
    schema: positiveInt.min(256).max(1_048_576).default(8192),
  },
  {
    key: 'maxHeaderBytes',
    type: 'integer',
    description: 'largest request head, request line and headers together (431 beyond)',
    defaultLabel: '16384',
    schema: positiveInt.min(1024).max(1_048_576).default(16_384),
  },
  {
    key: 'maxPipelinedRequests',
    type: 'integer',
    description:
      'requests one HTTP connection may have unanswered at once (pipelining); the next gets 503 and the connection closes',
    defaultLabel: '8',
    schema: positiveInt.max(1024).default(8),
  },
  {
    key: 'grpcMaxConcurrentStreams',
    type: 'integer',
    description: 'gRPC calls one connection may have open at once (HTTP/2 streams)',
    defaultLabel: '32',
    schema: positiveInt.max(65_536).default(32),
  },
  CACHE_DIR_OPTION,
  {
    key: 'graphCache',
    type: 'boolean',
    description:
      "keep ONNX Runtime's optimized graph of each model, its weights in a file beside it, in <cache-dir>/optimized-graphs, so later starts on the same CPU skip optimizing and parsing (ResNet50: a session in 0.1-0.25 s instead of 0.3-0.5 s)",
    defaultLabel: 'true',
    schema: z.boolean().default(true),
  },
  {
    key: 'zooBaseUrl',
    type: 'string',
    placeholder: 'url',
    description: 'mirror of the ONNX model zoo to fetch zoo models from (air-gapped sites)',
    defaultLabel: 'the zoo on GitHub',
    schema: z.string().url().optional(),
  },
  {
    key: 'accessLog',
    type: 'boolean',
    description: 'log one line per request (method, path, status, milliseconds, request id)',
    defaultLabel: 'true',
    schema: z.boolean().default(true),
  },
  {
    key: 'logLevel',
    type: 'string',
    placeholder: 'level',
    description: 'least severe log lines written: debug, info, warn, error or silent',
    defaultLabel: 'info (debug with --verbose)',
    schema: z.enum(LOG_LEVELS).optional(),
  },
  {
    key: 'logFormat',
    type: 'string',
    placeholder: 'format',
    description:
      'json (one object per line, for log collectors), pretty (text for people) or auto (pretty when stderr is a terminal)',
    defaultLabel: 'auto',
    schema: z.enum(['json', 'pretty', 'auto']).default('auto'),
  },
  {
    key: 'otlpEndpoint',
    type: 'string',
    placeholder: 'url',
    description:
      'send OpenTelemetry traces over OTLP/HTTP to this collector (e.g. http://collector:4318; /v1/traces is added); tracing is off when neither this nor OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT is set',
    defaultLabel: 'none (tracing off)',
    schema: z.string().url().optional(),
  },
  {
    key: 'otlpServiceName',
    type: 'string',
    placeholder: 'name',
    description: 'service.name of the exported traces',
    defaultLabel: 'OTEL_SERVICE_NAME, else skiff',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'ui',
    type: 'boolean',
    description:
      'serve the web page at / to try a model and watch the server (--no-ui: / is a 404 like any unknown route)',
    defaultLabel: 'true',
    schema: z.boolean().default(true),
  },
  {
    key: 'uiSamples',
    type: 'string',
    placeholder: 'dir',
    description: 'a folder of sample photos the web page offers (its image files only, not subfolders)',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  { ...VERBOSE_OPTION, description: 'debug logs, and stack traces for start-up errors' },
] as const satisfies readonly OptionSpec[];

/** What `skiff serve` runs with: one value per row of SERVE_OPTIONS, as its schema returns it. */
export type ServeConfig = ConfigOf<typeof SERVE_OPTIONS>;
