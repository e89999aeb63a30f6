import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';

/** Object metadata as the 1.27 schema defines it. */
export type ObjectMeta = NonNullable<IConfigMap['metadata']>;

/** Any object Skiff renders and applies: built-in kinds and the KServe/Seldon custom resources alike. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: ObjectMeta;
}
