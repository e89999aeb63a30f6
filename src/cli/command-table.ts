import { BENCH_OPTIONS } from '../config/bench-options.js';
import { BUILD_OPTIONS } from '../config/build-options.js';
import {
  CLUSTER_OPTIONS,
  DEPLOY_RUN_OPTIONS,
  DEPLOY_SECTION_OPTIONS,
  LOGS_OPTIONS,
  MANIFEST_OPTIONS,
  PORT_FORWARD_OPTIONS,
} from '../config/deploy-options.js';
import { MODELS_OPTIONS } from '../config/models-options.js';
import { PUSH_OPTIONS } from '../config/push-options.js';
import { RUN_IMAGE_OPTIONS } from '../config/run-image-options.js';
import { SERVE_OPTIONS } from '../config/serve-options.js';
import { SkiffError } from '../core/errors.js';
import { modelChoicesHelp } from '../store/model-choices.js';
import type { CommandSpec } from './command-spec.js';
import { command } from './command-spec.js';

// Every command, declared once: `skiff --help`, each command's --help and parser, and its configuration type
// come from these objects. Each command's code is imported only when it runs: `skiff serve` must not spend its
// cold start compiling the deploy, build and bench modules (about 0.1 s here), and `skiff deploy` never loads
// the ONNX addon.

export const SERVE_COMMAND = command({
  name: 'serve',
  summary: 'serve a model over HTTP and gRPC (default: MobileNet V2 int8, which ships with Skiff)',
  usage: 'skiff serve [options]',
  description:
    'Serve an image classifier over HTTP: POST /predict (multipart field "image" or a raw image body),\nGET /v2/health/live and /v2/health/ready. Every option can also be set with its SKIFF_* environment\nvariable or in the "serve" section of skiff.yaml; flags win over the environment, which wins over the file.',
  footer: `Examples:\n  skiff serve                                   # MobileNet V2 int8 (ships with Skiff), on :5000\n  skiff serve --model resnet50                  # the seed's ResNet50: downloaded once, sha256-verified\n  skiff serve --model ./model.onnx --labels labels.txt --port 8080\n  curl -F image=@dog.jpg http://localhost:5000/predict\n\n${modelChoicesHelp()}`,
  options: SERVE_OPTIONS,
  section: 'serve',
  load: async () => (await import('./commands/serve.js')).serveCommand,
});

export const MODELS_COMMAND = command({
  name: 'models',
  summary: 'list a model repository: versions, inputs, outputs and what each model expects',
  usage: 'skiff models --model-repository <dir> [--json]',
  description:
    'List what a model repository holds: each model, its versions (as its version policy selects them),\nits inputs and outputs, and how an image is fed to it. Each model is loaded once to read its contract.',
  footer: 'Example:\n  skiff models --model-repository ./models',
  options: MODELS_OPTIONS,
  section: 'models',
  load: async () => (await import('./commands/models.js')).modelsCommand,
});

export const BENCH_COMMAND = command({
  name: 'bench',
  summary:
    'load a running server: req/s and latency percentiles per concurrency or rate, vs the engine alone',
  usage: 'skiff bench [options]',
  description:
    'Load a running server and print throughput and latency per step: req/s, p50/p90/p99/max, errors.\nClosed loop (--concurrency sweep) or open loop (--rate); with --model-file, ONNX Runtime alone on the same\nmodel and threads is measured first, and each step shows its ratio to it. Progress goes to stderr on a terminal.',
  footer:
    'Exit code: 0; 2 when every request failed; 1 for bad options or when requests cannot be prepared (v2 or gRPC metadata unreadable).\n\nExamples:\n  skiff bench --image dog.jpg -c 1,2,4,8 -d 10\n  skiff bench --protocol v2 --model resnet50 --rate 10,20,40 --json > result.json\n  skiff bench --protocol grpc --url grpc://127.0.0.1:8081 -c 1,8\n  skiff bench --image dog.jpg -c 8 --model-file resnet50.onnx --threads 2   # vs the engine alone',
  options: BENCH_OPTIONS,
  check(config, flags) {
    // Asked of the flags, not the config: --concurrency and --duration have defaults.
    if (flags.rate !== undefined && flags.concurrency !== undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        'give either --concurrency (closed loop) or --rate (open loop), not both',
      );
    if (config.protocol !== 'predict' && config.image !== undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        `--image goes with --protocol predict; ${config.protocol} requests carry tensors built from the model metadata`,
      );
    // The default --url is the HTTP port: a gRPC benchmark must say where the gRPC port is.
    if (config.protocol === 'grpc' && flags.url === undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        "--protocol grpc needs --url with the server's gRPC port, e.g. grpc://127.0.0.1:8081",
      );
    if (flags.duration !== undefined && config.requests !== undefined)
      throw new SkiffError('SKIFF_CONFIG_INVALID', 'give either --duration or --requests, not both');
  },
  load: async () => (await import('./commands/bench.js')).benchCommand,
});

export const BUILD_COMMAND = command({
  name: 'build',
  summary: 'build the server image (OCI) without a Docker daemon; --push sends it to a registry',
  usage: 'skiff build [options]',
  description:
    'Build the Skiff server image without a Docker daemon: the base image from a registry, then layers for the\nproduction node_modules, the app and (optionally) the model, written as an OCI layout directory or a tar,\nor pushed. Options also come from SKIFF_* variables and the "build" section of skiff.yaml.',
  footer:
    'Examples:\n  skiff build --model ./dogs.onnx --labels labels.txt --tag registry.example.com/team/dogs:1.0 --push\n  skiff build --base 127.0.0.1:5000/node:26 --output dogs.tar && podman load -i dogs.tar\n  podman run --rm -p 127.0.0.1:5000:5000 dogs:1.0   # then curl -F image=@dog.jpg localhost:5000/predict',
  options: BUILD_OPTIONS,
  section: 'build',
  check(config) {
    if (config.builder !== undefined && config.engine === undefined)
      throw new SkiffError(
        'SKIFF_CONFIG_INVALID',
        '--builder is the Containerfile build stage: it needs --engine (skiff build alone only uses --base)',
      );
  },
  load: async () => (await import('./commands/build.js')).buildCommand,
});

export const PUSH_COMMAND = command({
  name: 'push',
  summary: 'push an image written by "skiff build --output" to a registry',
  usage: 'skiff push --tag <ref> [options]',
  description:
    'Push an image written by "skiff build --output" (an OCI layout directory or tar) to a registry over the\nOCI distribution API: blobs the registry has are skipped, base layers are mounted from the base repository\nwhen it is on the same registry, failures are retried. Options also come from the "push" section of skiff.yaml.',
  footer:
    'Examples:\n  skiff build --output dogs.tar && skiff push --from dogs.tar --tag registry.example.com/team/dogs:1.0\n  skiff push --tag 127.0.0.1:5000/dogs:dev            # plain HTTP for 127.0.0.1 and localhost',
  options: PUSH_OPTIONS,
  section: 'push',
  load: async () => (await import('./commands/push.js')).pushCommand,
});

export const RUN_IMAGE_COMMAND = command({
  name: 'run-image',
  summary: 'run a Skiff image with podman or docker: port on 127.0.0.1, a local model mounted',
  usage: 'skiff run-image [options]',
  description:
    'Run a Skiff image with podman or docker: the server port published on 127.0.0.1, a local model mounted\nread-only (or a zoo name / URL fetched at start), SIGTERM drains requests in flight. Prints the URL.\nOptions also come from SKIFF_* variables and the "run-image" section of skiff.yaml.',
  footer:
    'Examples:\n  skiff run-image --image registry.example.com/team/dogs:1.0             # its own model, foreground\n  skiff run-image --model ./dogs/model.onnx --labels ./dogs/labels.txt -d --container-name dogs\n  curl -F image=@dog.jpg http://127.0.0.1:5000/predict; podman stop dogs',
  options: RUN_IMAGE_OPTIONS,
  section: 'run-image',
  load: async () => (await import('./commands/run-image.js')).runImageCommand,
});

// The Kubernetes commands all load the whole `deploy` section, so one skiff.yaml serves them alike; each
// accepts only its own flags.
const KUBERNETES = { options: DEPLOY_SECTION_OPTIONS, section: 'deploy' } as const;

export const DEPLOY_COMMAND = command({
  name: 'deploy',
  summary:
    'deploy to Kubernetes and watch the rollout (rolls back on failure); --dry-run prints the manifests',
  usage: 'skiff deploy [options]',
  description:
    'Deploy the Skiff image to Kubernetes: a Deployment (rolling updates, probes on the health routes, sized\nresources, locked-down pods), a Service, a PodDisruptionBudget, an autoscaler and, if asked, an Ingress and\na ConfigMap for model.json. Applied with server-side apply; the rollout is watched and, if it fails, rolled\nback to the previous revision. Every option can be set in the "deploy" section of skiff.yaml.',
  footer:
    'Examples:\n  skiff deploy --dry-run -o yaml                # print the manifests; no cluster needed\n  skiff deploy --image registry.example/skiff:1.2 --service-type LoadBalancer\n  skiff deploy --target kserve --dry-run        # a KServe InferenceService instead',
  ...KUBERNETES,
  flags: [...CLUSTER_OPTIONS, ...MANIFEST_OPTIONS, ...DEPLOY_RUN_OPTIONS],
  load: async () => (await import('./commands/deploy.js')).deployCommand,
});

export const STATUS_COMMAND = command({
  name: 'status',
  summary: 'rollout, pods, endpoints and external address of a deployed app',
  usage: 'skiff status [options]',
  description:
    "Show a deployed app: the rollout, its pods, the Service's endpoints and its external address.",
  footer: 'Example:\n  skiff status --app dogs -n ml',
  ...KUBERNETES,
  flags: CLUSTER_OPTIONS,
  load: async () => (await import('./commands/status.js')).statusCommand,
});

export const LOGS_COMMAND = command({
  name: 'logs',
  summary: 'server logs of every pod of an app (-f follows)',
  usage: 'skiff logs [options]',
  description: "Print the server logs of every pod of an app, each line prefixed with its pod's name.",
  footer: 'Examples:\n  skiff logs --tail 20\n  skiff logs -f            # follow until Ctrl-C',
  ...KUBERNETES,
  flags: [...CLUSTER_OPTIONS, ...LOGS_OPTIONS],
  load: async () => (await import('./commands/logs.js')).logsCommand,
});

export const PORT_FORWARD_COMMAND = command({
  name: 'port-forward',
  summary: 'forward a local port to a ready pod of an app',
  usage: 'skiff port-forward [options]',
  description:
    'Forward a local port on 127.0.0.1 to the HTTP port of one ready pod of an app, as\n"kubectl port-forward" does, without looking up the pod\'s name. Runs until Ctrl-C.',
  footer: 'Example:\n  skiff port-forward &\n  curl -F image=@dog.jpg http://127.0.0.1:5000/predict',
  ...KUBERNETES,
  flags: [...CLUSTER_OPTIONS, ...PORT_FORWARD_OPTIONS],
  load: async () => (await import('./commands/port-forward.js')).portForwardCommand,
});

export const DELETE_COMMAND = command({
  name: 'delete',
  summary: 'delete everything Skiff created for an app',
  usage: 'skiff delete [options]',
  description:
    'Delete everything Skiff created for an app (found by its app.kubernetes.io/instance and managed-by labels):\nthe Deployment and its pods, Service, autoscaler, disruption budget, Ingress, ConfigMap, and a KServe or\nSeldon resource if one was deployed.',
  footer: 'Example:\n  skiff delete --app dogs',
  ...KUBERNETES,
  flags: CLUSTER_OPTIONS,
  load: async () => (await import('./commands/delete.js')).deleteCommand,
});

/** In the order `skiff --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  SERVE_COMMAND,
  MODELS_COMMAND,
  BENCH_COMMAND,
  BUILD_COMMAND,
  PUSH_COMMAND,
  RUN_IMAGE_COMMAND,
  DEPLOY_COMMAND,
  STATUS_COMMAND,
  LOGS_COMMAND,
  PORT_FORWARD_COMMAND,
  DELETE_COMMAND,
];
