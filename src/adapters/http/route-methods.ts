import type { FastifyInstance } from 'fastify';
import { pathOf } from './error-reply.js';

interface RoutePattern {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
}

/**
 * Remembers every route as it is registered, so that a request with the wrong method can be answered 405
 * with `Allow` (Fastify alone would answer 404), and lists them for the OpenAPI document.
 */
export class RouteMethods {
  private readonly routes: RoutePattern[] = [];
  readonly documented: { method: string; url: string }[] = [];

  watch(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      this.routes.push(routePattern(route.url, route.method));
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        if (method !== 'HEAD') this.documented.push({ method, url: route.url });
      }
    });
  }

  /** The methods some route takes on this URL's path (empty: no route has the path at all). */
  allowed(url: string): string[] {
    const path = pathOf(url);
    const methods = this.routes
      .filter((r) => r.pattern.test(path))
      .flatMap((r) => r.methods.filter((m) => m !== 'HEAD'));
    return [...new Set(methods)];
  }
}

/** Fastify's `:param` (and `::` for a literal colon) as a regular expression over a concrete path. */
function routePattern(url: string, method: string | string[]): RoutePattern {
  // A parameter's regular-expression constraint, `:model([^:/]+)`, matches like any other parameter here.
  const source = url
    .replace(/(:[A-Za-z_]\w*)\([^)]*\)/g, '$1')
    .split('::')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+'))
    .join(':');
  return { methods: Array.isArray(method) ? method : [method], pattern: new RegExp(`^${source}$`) };
}
