// What holds memory in a V8 heap snapshot: per constructor (or string/array kind) the count,
// the self size and the retained size (from the dominator tree), largest first.
//
//   node test/bench/heap-summary.mjs FILE.heapsnapshot [--top 30]
//
// Take the snapshot with `npm run bench -- --heap-snapshot FILE` (after the scan and its scrapes),
// or `node --heapsnapshot-signal=SIGUSR2 dist/cli.js run` and `kill -USR2 PID`.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: flags, positionals } = parseArgs({
  options: { top: { type: 'string', default: '30' } },
  allowPositionals: true,
});
if (positionals.length !== 1) throw new Error('usage: heap-summary.mjs FILE.heapsnapshot [--top N]');

const snapshot = JSON.parse(readFileSync(positionals[0], 'utf8'));
const { node_fields: nodeFields, edge_fields: edgeFields, node_types: nodeTypes, edge_types: edgeTypes } = snapshot.snapshot.meta;
const NODE_SIZE = nodeFields.length;
const EDGE_SIZE = edgeFields.length;
const [nodeTypeNames] = nodeTypes;
const [edgeTypeNames] = edgeTypes;
const N_TYPE = nodeFields.indexOf('type');
const N_NAME = nodeFields.indexOf('name');
const N_SELF = nodeFields.indexOf('self_size');
const N_EDGES = nodeFields.indexOf('edge_count');
const E_TYPE = edgeFields.indexOf('type');
const E_TO = edgeFields.indexOf('to_node');
const WEAK = edgeTypeNames.indexOf('weak');
const { nodes, edges, strings } = snapshot;
const count = nodes.length / NODE_SIZE;

// Outgoing edges as [first, end) per node; weak edges do not keep anything alive.
const firstEdge = new Uint32Array(count + 1);
for (let n = 0, e = 0; n < count; n++) {
  firstEdge[n] = e;
  e += nodes[n * NODE_SIZE + N_EDGES] * EDGE_SIZE;
  firstEdge[n + 1] = e;
}
const targets = (n, visit) => {
  for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EDGE_SIZE) {
    if (edges[e + E_TYPE] !== WEAK) visit(edges[e + E_TO] / NODE_SIZE);
  }
};

// Reverse postorder from the root (node 0), iteratively.
const order = new Int32Array(count).fill(-1);
const postorder = [];
{
  const stack = [0];
  const next = new Uint32Array(count);
  const visited = new Uint8Array(count);
  visited[0] = 1;
  for (let n = 0; n < count; n++) next[n] = firstEdge[n];
  while (stack.length > 0) {
    const n = stack[stack.length - 1];
    let pushed = false;
    while (next[n] < firstEdge[n + 1]) {
      const e = next[n];
      next[n] += EDGE_SIZE;
      if (edges[e + E_TYPE] === WEAK) continue;
      const to = edges[e + E_TO] / NODE_SIZE;
      if (visited[to]) continue;
      visited[to] = 1;
      stack.push(to);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      order[n] = postorder.length;
      postorder.push(n);
    }
  }
}

// Predecessors (reachable nodes only), then the iterative dominator algorithm of Cooper, Harvey
// and Kennedy on postorder numbers.
const predCount = new Uint32Array(count + 1);
for (let n = 0; n < count; n++) if (order[n] >= 0) targets(n, (to) => predCount[to]++);
const predStart = new Uint32Array(count + 1);
for (let n = 0; n < count; n++) predStart[n + 1] = predStart[n] + predCount[n];
const preds = new Uint32Array(predStart[count]);
const fill = predStart.slice();
for (let n = 0; n < count; n++) if (order[n] >= 0) targets(n, (to) => (preds[fill[to]++] = n));

const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a, b) => {
  while (a !== b) {
    while (order[a] < order[b]) a = idom[a];
    while (order[b] < order[a]) b = idom[b];
  }
  return a;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let i = postorder.length - 2; i >= 0; i--) {
    const n = postorder[i];
    let dom = -1;
    for (let p = predStart[n]; p < predStart[n + 1]; p++) {
      const pred = preds[p];
      if (idom[pred] === -1) continue;
      dom = dom === -1 ? pred : intersect(pred, dom);
    }
    if (dom !== -1 && idom[n] !== dom) {
      idom[n] = dom;
      changed = true;
    }
  }
}

// Retained sizes: children before parents, which postorder gives.
const retained = new Float64Array(count);
for (const n of postorder) retained[n] += nodes[n * NODE_SIZE + N_SELF];
for (const n of postorder) if (n !== 0) retained[idom[n]] += retained[n];

const className = (n) => {
  const type = nodeTypeNames[nodes[n * NODE_SIZE + N_TYPE]];
  if (type === 'object' || type === 'closure' || type === 'native') return strings[nodes[n * NODE_SIZE + N_NAME]];
  return `(${type})`;
};
// A class's retained size counts an object only when no object of the same class dominates it.
const groups = new Map();
for (const n of postorder) {
  const name = className(n);
  let group = groups.get(name);
  if (group === undefined) groups.set(name, (group = { name, count: 0, self: 0, retained: 0 }));
  group.count++;
  group.self += nodes[n * NODE_SIZE + N_SELF];
  let owner = idom[n];
  while (owner !== 0 && className(owner) !== name) owner = idom[owner];
  if (owner === 0) group.retained += retained[n];
}

const top = Number(flags.top);
const mb = (bytes) => (bytes / 1e6).toFixed(1).padStart(8);
const total = retained[0];
console.log(`${positionals[0]}: ${count} nodes, ${(total / 1e6).toFixed(1)} MB reachable`);
console.log(`${'retained MB'.padStart(11)} ${'self MB'.padStart(8)} ${'count'.padStart(9)}  constructor`);
for (const group of [...groups.values()].sort((a, b) => b.retained - a.retained).slice(0, top)) {
  console.log(`${mb(group.retained).padStart(11)} ${mb(group.self)} ${String(group.count).padStart(9)}  ${group.name}`);
}

// Who holds what: retained size by (dominator's class → class), the step a reader follows next.
const pairs = new Map();
for (const n of postorder) {
  if (n === 0 || idom[n] === 0) continue;
  const owner = className(idom[n]);
  const name = className(n);
  if (owner === name) continue;
  const key = `${owner} → ${name}`;
  pairs.set(key, (pairs.get(key) ?? 0) + retained[n]);
}
console.log(`\n${'retained MB'.padStart(11)}  held by → constructor`);
for (const [key, bytes] of [...pairs].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${mb(bytes).padStart(11)}  ${key}`);
}
