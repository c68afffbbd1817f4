export { createServer, reviewItemOf, type BallastServer, type ServerOptions } from './create-server.js';
export { createDecisionServer, type DecisionServer, type DecisionServerOptions } from './decision-server.js';
export { httpStatusOf } from './http-status.js';
export { problemOf, toBallastError, type Problem } from './problem.js';
export { buildOpenApiDocument } from './openapi.js';
export { anonymousPrincipal, type ServerAuth } from './auth.js';
export { routePermissions, ruleOf, type RouteRule } from './route-permissions.js';
