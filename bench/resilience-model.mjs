// The fake model of bench/resilience.mjs, in its own process: `ballast/testing`'s fake JSON model
// (POST /predict) answering after `delay` ms, whose behaviour the parent switches over IPC
// ({ behaviour } → { at, requestsBefore }: `at` is Date.now() at the switch, the clock Ballast's breaker uses).
// Usage: node bench/resilience-model.mjs <delayMs>; prints `listening <port>`.
import http from 'node:http';
import { startFakeHttpModel } from '../dist/testing/index.js';

// The fake's node:http server keeps Node's default 5 s keep-alive timeout and does not expose the
// server; held connections (10,000 in the generator check) would be closed while they wait their turn.
const createServer = http.createServer;
http.createServer = (...args) => {
  const server = createServer(...args);
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  return server;
};

const delayMs = Number(process.argv[2] ?? 50);
const fake = await startFakeHttpModel();
fake.behaviour = delayMs > 0 ? { kind: 'delay', ms: delayMs } : { kind: 'normal' };
// The fake keeps every request it received (`received`), without bound; at thousands a second for
// minutes that is hundreds of MB in this process. Counted here and emptied once a second.
let requests = 0;
setInterval(() => {
  requests += fake.received.length;
  fake.received.length = 0;
}, 1000).unref();
const count = () => requests + fake.received.length;

process.on('message', (message) => {
  if (message.behaviour !== undefined) {
    const requestsBefore = count();
    fake.behaviour = message.behaviour;
    process.send({ id: message.id, at: Date.now(), requestsBefore });
  } else if (message.stats) {
    process.send({ id: message.id, requests: count(), openConnections: fake.openConnections, connections: fake.connections, rssBytes: process.memoryUsage().rss });
  }
});
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
process.stdout.write(`listening ${new URL(fake.url).port}\n`);
