// Keeps imports flowing one way: each folder of src/ may import only the folders the module map
// in ARCHITECTURE.md allows. Checked on the resolved path, so `../../store/x.js` is caught too.
import path from 'node:path';

/** The module map: folder → folders it may import. `index` is the package's public entry. */
export const allowedImports = {
  errors: [],
  contracts: ['errors'],
  adapters: ['errors'],
  policy: ['contracts', 'errors'],
  routing: ['errors'],
  resilience: ['errors'],
  pipeline: ['errors', 'contracts', 'adapters', 'policy', 'routing', 'resilience'],
  store: ['errors'],
  monitoring: ['errors', 'store'],
  governance: ['errors', 'contracts', 'routing', 'store', 'monitoring'],
  review: ['errors', 'store', 'governance'],
  server: ['errors', 'contracts', 'adapters', 'policy', 'routing', 'resilience', 'pipeline', 'monitoring', 'governance', 'review', 'store'],
  index: ['errors', 'contracts', 'adapters', 'policy', 'routing', 'resilience', 'pipeline', 'monitoring', 'governance', 'review', 'store', 'server'],
  demo: ['index'],
  testing: ['errors'],
  cli: ['errors', 'contracts', 'adapters', 'policy', 'routing', 'resilience', 'pipeline', 'monitoring', 'governance', 'review', 'store', 'server', 'index', 'demo', 'testing'],
  client: [],
};

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const first = rel.split(path.sep)[0];
  if (first === 'index.ts' || first === 'index.js') return 'index';
  return first.includes('.') ? undefined : first;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the module map of ARCHITECTURE.md' },
    schema: [],
    messages: {
      forbidden: "'{{from}}/' may not import '{{to}}/' (allowed: {{allowed}}). See the module map in ARCHITECTURE.md.",
      unknown: "'{{from}}/' is not in the module map (eslint-rules/layers.js); add it there and to ARCHITECTURE.md.",
    },
  },
  create(context) {
    const filename = context.filename;
    const srcRoot = path.resolve(context.cwd, 'src');
    const from = layerOf(filename, srcRoot);
    if (from === undefined) return {};
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(filename), source), srcRoot);
      if (to === undefined || to === from) return;
      const allowed = allowedImports[from];
      if (!allowed) {
        context.report({ node, messageId: 'unknown', data: { from } });
        return;
      }
      if (!allowed.includes(to)) {
        context.report({ node, messageId: 'forbidden', data: { from, to, allowed: allowed.join(', ') || 'nothing' } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
