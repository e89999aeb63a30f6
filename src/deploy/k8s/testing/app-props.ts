import type { SkiffAppProps } from '../app-props.js';

/** The defaults `skiff deploy` uses, spelled out, plus overrides. */
export function appProps(overrides: Partial<SkiffAppProps> = {}): SkiffAppProps {
  return {
    name: 'skiff',
    image: 'registry.example/skiff:1.2.3',
    imagePullPolicy: 'IfNotPresent',
    replicas: 2,
    modelBytes: 102_576_593,
    workers: 1,
    threadsPerWorker: 1,
    serviceType: 'ClusterIP',
    autoscaling: { minReplicas: 2, maxReplicas: 5, targetCpuPercent: 70 },
    preStopSeconds: 5,
    drainSeconds: 30,
    startupSeconds: 300,
    progressDeadlineSeconds: 600,
    runAsUser: 65532,
    ...overrides,
  };
}
