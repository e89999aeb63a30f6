import { z } from 'zod';
import type { ConfigOf, OptionSpec } from './option-table.js';
import { CACHE_DIR_OPTION, IMAGE_OPTION, VERBOSE_OPTION } from './shared-options.js';
import { REGISTRY_OPTIONS } from './registry-options.js';

/** Every `skiff build` option, in the order --help lists them. */
export const BUILD_OPTIONS = [
  {
    key: 'base',
    type: 'string',
    placeholder: 'ref',
    description:
      'base image with node (22 or later) at /usr/bin/node or /usr/local/bin/node: a registry reference, "scratch", or oci:<dir>',
    defaultLabel: 'docker.io/library/node:26-bookworm-slim',
    schema: z.string().min(1).default('docker.io/library/node:26-bookworm-slim'),
  },
  {
    key: 'tag',
    short: 't',
    type: 'string',
    placeholder: 'ref',
    description: 'name of the image, and where --push sends it',
    defaultLabel: IMAGE_OPTION.defaultLabel,
    schema: IMAGE_OPTION.schema,
  },
  {
    key: 'model',
    type: 'string',
    placeholder: 'path|url|name',
    description:
      'a local model file (or a directory holding model.onnx) is baked into the image; a URL or zoo name is fetched when the container starts',
    defaultLabel: "none (serve's default, mobilenetv2-int8, which ships in the image)",
    schema: z.string().min(1).optional(),
  },
  {
    key: 'labels',
    type: 'string',
    placeholder: 'file',
    description: 'labels file baked in beside the model',
    defaultLabel: 'none',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'modelConfig',
    type: 'string',
    placeholder: 'file',
    description: "the model's model.json, baked in beside the model",
    defaultLabel: 'model.json next to the model, if present',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'output',
    short: 'o',
    type: 'string',
    placeholder: 'dir|file.tar',
    description:
      'write the image as an OCI layout directory, or as a tar (name ending in .tar) for docker/podman load',
    defaultLabel: 'skiff-image (a directory) unless --push is given',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'push',
    type: 'boolean',
    description: 'push the image to the registry named by --tag',
    defaultLabel: 'false',
    schema: z.boolean().default(false),
  },
  {
    key: 'engine',
    type: 'string',
    placeholder: 'docker|podman|buildah',
    description: 'build with a local container engine and the Containerfile instead',
    defaultLabel: 'none (no engine needed)',
    schema: z.enum(['docker', 'podman', 'buildah']).optional(),
  },
  {
    key: 'builder',
    type: 'string',
    placeholder: 'ref',
    description:
      "with --engine: the Containerfile's build-stage image (node 22 or later, npm and a shell), e.g. from a mirror",
    defaultLabel: 'docker.io/library/node:26-bookworm',
    schema: z.string().min(1).optional(),
  },
  {
    key: 'platform',
    type: 'string',
    placeholder: 'os/arch',
    description: "the base image's platform to pull, and onnxruntime binaries to keep",
    defaultLabel: 'this machine (e.g. linux/amd64)',
    schema: z
      .string()
      .regex(/^linux\/[a-z0-9]+(\/[a-z0-9]+)?$/, 'use linux/<arch>, e.g. linux/amd64')
      .optional(),
  },
  {
    key: 'port',
    short: 'p',
    type: 'integer',
    description: 'port the server listens on in the container (exposed in the image config)',
    defaultLabel: '5000',
    schema: z.number().int().min(1).max(65535).default(5000),
  },
  {
    key: 'user',
    type: 'string',
    placeholder: 'uid[:gid]',
    description: 'numeric user the server runs as (never root)',
    defaultLabel: '65532:65532',
    schema: z
      .string()
      .regex(/^[1-9]\d*(:\d+)?$/, 'use a numeric, non-zero uid[:gid]')
      .default('65532:65532'),
  },
  {
    key: 'appDir',
    type: 'string',
    placeholder: 'dir',
    description: 'the Skiff checkout to package (package.json, package-lock.json, node_modules, dist/src)',
    defaultLabel: 'the running Skiff installation',
    schema: z.string().min(1).optional(),
  },
  {
    ...CACHE_DIR_OPTION,
    description: 'where pulled base layers and built layers are kept (the image subfolder)',
  },
  ...REGISTRY_OPTIONS,
  VERBOSE_OPTION,
] as const satisfies readonly OptionSpec[];

export type BuildConfig = ConfigOf<typeof BUILD_OPTIONS>;
