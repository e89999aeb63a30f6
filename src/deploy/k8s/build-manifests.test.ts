import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Container } from 'kubernetes-models/v1/Container';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { PodSpec } from 'kubernetes-models/v1/PodSpec';
import { Service } from 'kubernetes-models/v1/Service';
import type { IService } from 'kubernetes-models/v1/Service';
import type { SkiffAppProps } from './app-props.js';
import { SKIFF_SERVER } from './app-props.js';
import { buildManifests } from './build-manifests.js';
import { buildInferenceService, buildSeldonDeployment } from './build-alternatives.js';
import type { Manifest } from './manifest.js';
import { renderManifests } from './render-manifests.js';
import { sizeResources } from './size-resources.js';
import { appProps } from './testing/app-props.js';

const VALIDATORS: Record<string, (object: unknown) => void> = {
  Deployment: (o) => new Deployment(o as IDeployment).validate(),
  Service: (o) => new Service(o as IService).validate(),
  HorizontalPodAutoscaler: (o) => new HorizontalPodAutoscaler(o as IHorizontalPodAutoscaler).validate(),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o as IPodDisruptionBudget).validate(),
  Ingress: (o) => new Ingress(o as ConstructorParameters<typeof Ingress>[0]).validate(),
  ConfigMap: (o) => new ConfigMap(o as IConfigMap).validate(),
};

const VARIANTS: Record<string, SkiffAppProps> = {
  defaults: appProps(),
  'everything on': appProps({
    namespace: 'ml',
    model: 'https://models.example/dogs.onnx',
    modelSha256: 'ab'.repeat(32),
    labels: 'https://models.example/dogs.txt',
    modelConfigJson: '{"input":{"layout":"NCHW"}}\n',
    authSecret: 'skiff-token',
    workers: 2,
    threadsPerWorker: 2,
    serviceType: 'LoadBalancer',
    autoscaling: {
      minReplicas: 3,
      maxReplicas: 10,
      targetCpuPercent: 60,
      customMetric: { name: 'skiff_queue_depth', averageValue: '8' },
    },
    ingress: { host: 'dogs.example.com', className: 'nginx' },
  }),
  'baked model, fixed replicas, digest image': appProps({
    model: '/app/model/model.onnx',
    image: 'registry.example/skiff@sha256:' + '0'.repeat(64),
    autoscaling: undefined,
    replicas: 3,
    serviceType: 'NodePort',
  }),
};

function find(objects: readonly Manifest[], kind: string): Manifest {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `no ${kind}`);
  return found;
}

function skiffContainer(deployment: IDeployment): IContainer {
  const container = deployment.spec?.template.spec?.containers.find(
    (c) => c.name === SKIFF_SERVER.containerName,
  );
  assert.ok(container);
  return container;
}

for (const [variant, props] of Object.entries(VARIANTS)) {
  describe(`manifests: ${variant}`, () => {
    const objects = buildManifests(props);
    const deployment = find(objects, 'Deployment') as IDeployment;
    const container = skiffContainer(deployment);
    const templateLabels = deployment.spec?.template.metadata?.labels ?? {};

    test('every object passes the Kubernetes 1.27 schema', () => {
      for (const object of objects) {
        const validate = VALIDATORS[object.kind];
        assert.ok(validate, `no validator for ${object.kind}`);
        validate(object);
      }
    });

    test('standard labels on every object; namespace only when one was given', () => {
      for (const object of objects) {
        assert.equal(object.metadata?.labels?.['app.kubernetes.io/managed-by'], 'skiff');
        assert.equal(object.metadata.labels['app.kubernetes.io/instance'], props.name);
        assert.equal(object.metadata.namespace, props.namespace);
      }
    });

    test('the Deployment, Service and PodDisruptionBudget selectors match the pod template labels', () => {
      const selectors = [
        deployment.spec?.selector.matchLabels,
        (find(objects, 'Service') as IService).spec?.selector,
        (find(objects, 'PodDisruptionBudget') as IPodDisruptionBudget).spec?.selector?.matchLabels,
      ];
      for (const selector of selectors) {
        assert.ok(selector !== undefined && Object.keys(selector).length > 0);
        for (const [key, value] of Object.entries(selector)) assert.equal(templateLabels[key], value, key);
      }
    });

    test('rolling updates never take a ready pod away first', () => {
      assert.equal(deployment.spec?.strategy?.type, 'RollingUpdate');
      assert.equal(deployment.spec.strategy.rollingUpdate?.maxUnavailable, 0);
    });

    test("probes hit Skiff's health routes on the port the server listens on", () => {
      const http = container.ports?.find((p) => p.name === 'http');
      assert.equal(http?.containerPort, SKIFF_SERVER.httpPort);
      assert.equal(container.env?.find((e) => e.name === 'SKIFF_PORT')?.value, String(http.containerPort));
      assert.equal(container.startupProbe?.httpGet?.path, '/v2/health/ready');
      assert.equal(container.readinessProbe?.httpGet?.path, '/v2/health/ready');
      assert.equal(container.livenessProbe?.httpGet?.path, '/v2/health/live');
      for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
        assert.equal(probe.httpGet?.port, 'http');
      }
      const startupBudget =
        (container.startupProbe.periodSeconds ?? 0) * (container.startupProbe.failureThreshold ?? 0);
      assert.ok(startupBudget >= props.startupSeconds);
    });

    test('the Service exposes the http and grpc ports by the container port names', () => {
      const service = find(objects, 'Service') as IService;
      assert.equal(service.spec?.type, props.serviceType);
      const names = new Set(container.ports?.map((p) => p.name));
      for (const port of service.spec.ports ?? []) assert.ok(names.has(String(port.targetPort)), port.name);
      assert.deepEqual(
        service.spec.ports?.map((p) => p.port),
        [SKIFF_SERVER.httpPort, SKIFF_SERVER.grpcPort],
      );
    });

    test('non-root, read-only root filesystem, no privilege escalation, no capabilities, seccomp', () => {
      const security = container.securityContext;
      assert.equal(security?.runAsNonRoot, true);
      assert.ok(typeof security.runAsUser === 'number' && security.runAsUser > 0);
      assert.equal(security.readOnlyRootFilesystem, true);
      assert.equal(security.allowPrivilegeEscalation, false);
      assert.deepEqual(security.capabilities?.drop, ['ALL']);
      assert.equal(security.seccompProfile?.type, 'RuntimeDefault');
      assert.equal(deployment.spec?.template.spec?.automountServiceAccountToken, false);
    });

    test('the model cache and /tmp are writable emptyDirs', () => {
      const volumes = deployment.spec?.template.spec?.volumes ?? [];
      const cacheDir = container.env?.find((e) => e.name === 'SKIFF_CACHE_DIR')?.value;
      for (const mountPath of [cacheDir, '/tmp']) {
        const mount = container.volumeMounts?.find((m) => m.mountPath === mountPath);
        assert.ok(mount, `nothing mounted at ${String(mountPath)}`);
        assert.ok(volumes.find((v) => v.name === mount.name)?.emptyDir, `${mount.name} is not an emptyDir`);
      }
    });

    test('requests and limits are set, and match the sizing formula', () => {
      const sizing = sizeResources(props.modelBytes, props.workers, props.threadsPerWorker);
      assert.deepEqual(container.resources?.requests, {
        cpu: `${sizing.cpuRequestMillis}m`,
        memory: `${sizing.memoryMiB}Mi`,
      });
      assert.deepEqual(container.resources.limits, {
        cpu: `${sizing.cpuLimitMillis}m`,
        memory: `${sizing.memoryMiB}Mi`,
      });
    });

    test('the grace period covers the pre-stop delay plus the drain', () => {
      const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 0;
      assert.ok(grace >= props.preStopSeconds + props.drainSeconds, `grace ${grace}`);
      const command = container.lifecycle?.preStop?.exec?.command ?? [];
      assert.equal(command[0], 'node');
      assert.match(
        command.join(' '),
        new RegExp(`setTimeout\\(\\(\\) => \\{\\}, ${props.preStopSeconds * 1000}\\)`),
      );
      const shutdownMs = Number(container.env?.find((e) => e.name === 'SKIFF_SHUTDOWN_TIMEOUT_MS')?.value);
      assert.equal(container.env?.find((e) => e.name === 'SKIFF_DRAIN_DELAY_MS')?.value, '0');
      assert.ok(
        props.preStopSeconds + shutdownMs / 1000 < grace,
        'the server is killed before its own timeout',
      );
    });

    test('the image is the one given, and the model reaches the server only when named', () => {
      assert.equal(container.image, props.image);
      assert.equal(container.env?.find((e) => e.name === 'SKIFF_MODEL')?.value, props.model);
      assert.equal(
        container.env?.find((e) => e.name === 'SKIFF_THREADS_PER_WORKER')?.value,
        String(props.threadsPerWorker),
      );
      const token = container.env.find((e) => e.name === 'SKIFF_AUTH_TOKEN');
      assert.deepEqual(
        token,
        props.authSecret === undefined
          ? undefined
          : {
              name: 'SKIFF_AUTH_TOKEN',
              valueFrom: { secretKeyRef: { name: props.authSecret, key: 'token' } },
            },
      );
    });

    test('the autoscaler, when present, owns the replica count', () => {
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler') as
        IHorizontalPodAutoscaler | undefined;
      if (props.autoscaling === undefined) {
        assert.equal(hpa, undefined);
        assert.equal(deployment.spec?.replicas, props.replicas);
        return;
      }
      assert.ok(hpa);
      assert.equal(deployment.spec?.replicas, undefined);
      assert.deepEqual(hpa.spec?.scaleTargetRef, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: props.name,
      });
      assert.equal(hpa.spec.minReplicas, props.autoscaling.minReplicas);
      assert.equal(
        hpa.spec.metrics?.[0]?.resource?.target.averageUtilization,
        props.autoscaling.targetCpuPercent,
      );
      assert.equal(hpa.spec.metrics[1]?.pods?.metric.name, props.autoscaling.customMetric?.name);
    });

    test('model.json, when given, is the ConfigMap the pods mount and SKIFF_CONFIG points into', () => {
      const configMap = objects.find((o) => o.kind === 'ConfigMap') as IConfigMap | undefined;
      if (props.modelConfigJson === undefined) {
        assert.equal(configMap, undefined);
        assert.equal(
          container.env?.find((e) => e.name === 'SKIFF_CONFIG'),
          undefined,
        );
        return;
      }
      assert.ok(configMap);
      assert.equal(configMap.data?.['model.json'], props.modelConfigJson);
      const volume = deployment.spec?.template.spec?.volumes?.find((v) => v.configMap !== undefined);
      assert.equal(volume?.configMap?.name, configMap.metadata?.name);
      const mount = container.volumeMounts?.find((m) => m.name === volume?.name);
      assert.equal(
        container.env?.find((e) => e.name === 'SKIFF_CONFIG')?.value,
        `${mount?.mountPath ?? ''}/model.json`,
      );
      assert.match(
        deployment.spec?.template.metadata?.annotations?.['skiff.dev/model-config-sha256'] ?? '',
        /^[0-9a-f]{64}$/,
      );
    });

    test('YAML and JSON renderings parse back to the same objects', () => {
      const yaml = renderManifests(objects, 'yaml');
      assert.deepEqual(
        parseAllDocuments(yaml).map((d) => d.toJS() as unknown),
        JSON.parse(JSON.stringify(objects)),
      );
      const list = JSON.parse(renderManifests(objects, 'json')) as { kind: string; items: unknown[] };
      assert.equal(list.kind, 'List');
      assert.deepEqual(list.items, JSON.parse(JSON.stringify(objects)));
    });
  });
}

describe('alternatives for the same image', () => {
  const props = VARIANTS['everything on'] ?? appProps();

  test('KServe: a custom predictor container on one port, with probes by number and the same pod settings', () => {
    const isvc = buildInferenceService(props);
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    const [container] = isvc.spec.predictor.containers;
    assert.ok(container);
    new Container(container).validate();
    assert.equal(container.name, 'kserve-container');
    assert.equal(container.image, props.image);
    assert.deepEqual(container.ports, [{ containerPort: SKIFF_SERVER.httpPort, protocol: 'TCP' }]);
    assert.equal(container.readinessProbe?.httpGet?.port, SKIFF_SERVER.httpPort);
    assert.equal(container.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(isvc.spec.predictor.minReplicas, 3);
    assert.equal(isvc.spec.predictor.maxReplicas, 10);
    assert.deepEqual(
      buildManifests(props, 'kserve').map((o) => o.kind),
      ['ConfigMap', 'InferenceService'],
    );
  });

  test('Seldon Core: protocol v2, the graph names the container, the pod spec passes the schema', () => {
    const sdep = buildSeldonDeployment(props);
    assert.equal(sdep.spec.protocol, 'v2');
    const [predictor] = sdep.spec.predictors;
    assert.ok(predictor);
    const spec = predictor.componentSpecs[0]?.spec;
    assert.ok(spec);
    new PodSpec(spec).validate();
    assert.equal(predictor.graph.name, spec.containers[0]?.name);
    assert.equal(predictor.graph.endpoint.httpPort, SKIFF_SERVER.httpPort);
    assert.deepEqual(
      buildManifests(props, 'seldon').map((o) => o.kind),
      ['ConfigMap', 'SeldonDeployment'],
    );
  });
});

describe('resource sizing', () => {
  test('ResNet50 fp32 with one single-threaded worker', () => {
    assert.deepEqual(sizeResources(102_576_593, 1, 1), {
      cpuRequestMillis: 350,
      cpuLimitMillis: 1500,
      memoryMiB: 512,
      cacheMiB: 384,
    });
  });

  test('memory grows with a copy of the weights per worker; CPU with the inference threads', () => {
    const one = sizeResources(102_576_593, 1, 2);
    const two = sizeResources(102_576_593, 2, 2);
    assert.ok(two.memoryMiB - one.memoryMiB >= 3 * 97);
    assert.equal(two.cpuRequestMillis - one.cpuRequestMillis, 500);
    assert.equal(sizeResources(13_964_571, 1, 1).memoryMiB, 256);
  });
});
