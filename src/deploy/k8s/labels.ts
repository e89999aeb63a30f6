import type { SkiffAppProps } from './app-props.js';

export const MANAGED_BY = 'skiff';

/** The labels a selector uses; they never change for an instance, so a Deployment's selector stays valid. */
export function selectorLabels(props: Pick<SkiffAppProps, 'name'>): Readonly<Record<string, string>> {
  return { 'app.kubernetes.io/name': 'skiff', 'app.kubernetes.io/instance': props.name };
}

/** The recommended app.kubernetes.io/* labels, put on every object Skiff renders. */
export function standardLabels(
  props: Pick<SkiffAppProps, 'name' | 'image'>,
): Readonly<Record<string, string>> {
  const version = imageTag(props.image);
  return {
    ...selectorLabels(props),
    ...(version === undefined ? {} : { 'app.kubernetes.io/version': version }),
    'app.kubernetes.io/component': 'model-server',
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/** The label selector `skiff delete` and `skiff status` use to find everything of one instance. */
export function instanceSelector(name: string): string {
  return `app.kubernetes.io/managed-by=${MANAGED_BY},app.kubernetes.io/instance=${name}`;
}

/** The tag of an image reference, if it has one that is a valid label value (digests are not). */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon <= lastSlash) return undefined;
  const tag = withoutDigest.slice(colon + 1);
  return /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(tag) ? tag : undefined;
}
