// The fake model of bench/safe-change.mjs: bench/upstream.mjs's fixed answer, plus a count of the
// POSTs per path (GET /counts), so the bench can tell the versions' calls apart (v1 and v2 of a
// service point at /v1 and /v2 of this one server) and see how many shadow copies were made.
import http from 'node:http';

const body = Buffer.from(JSON.stringify({ label: 'ok', score: 0.97 }));
const counts = {};
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET') {
      const json = Buffer.from(JSON.stringify(counts));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length });
      res.end(json);
      return;
    }
    counts[req.url] = (counts[req.url] ?? 0) + 1;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
