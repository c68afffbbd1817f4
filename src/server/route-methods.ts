import type { FastifyInstance } from 'fastify';

/**
 * The methods each registered path accepts, so that a known path asked with another method can be
 * answered 405 with `Allow` (RFC 9110 §15.5.6) instead of 404. Paths are Fastify patterns with
 * static segments and `:param`s (and a trailing `*`); a request path matches as the router would
 * with `ignoreTrailingSlash`. Call before any route is registered: routes are seen through `onRoute`.
 */
export function trackRouteMethods(app: FastifyInstance): (path: string) => string[] {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    let methods = byUrl.get(route.url);
    if (methods === undefined) {
      methods = new Set();
      byUrl.set(route.url, methods);
      routes.push({ pattern: patternOf(route.url), methods });
    }
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
  });
  return (path) => {
    const allowed = new Set<string>();
    const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
    for (const route of routes) if (route.pattern.test(trimmed)) for (const method of route.methods) allowed.add(method);
    return [...allowed].sort();
  };
}

function patternOf(url: string): RegExp {
  const trimmed = url.length > 1 ? url.replace(/\/+$/, '') : url;
  const source = trimmed
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
