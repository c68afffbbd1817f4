// A minimal OpenAI-compatible model server for the benchmarks: POST /v1/chat/completions answers a
// fixed structured answer, {"label":"approve"}, with token logprobs that spell it (so the openai
// adapter computes a confidence, ≈ 0.97); GET /v1/models lists the model. As fast as Node can, like
// bench/upstream.mjs (src/testing/fake-openai.ts checks requests and is made for tests, not speed).
import http from 'node:http';

const content = '{"label":"approve"}';
const tokens = ['{"', 'label', '":"', 'approve', '"}'].map((token) => ({ token, logprob: -0.01, bytes: [...Buffer.from(token)], top_logprobs: [] }));
const completion = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1700000000,
  model: 'fake-gpt',
  system_fingerprint: 'fp_bench',
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: { content: tokens, refusal: null }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 80, completion_tokens: tokens.length, total_tokens: 80 + tokens.length },
}));
const models = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: 'fake-gpt', object: 'model', created: 1700000000, owned_by: 'bench' }] }));

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = req.method === 'GET' ? models : completion;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
