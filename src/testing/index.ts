// `ballast/testing`: fault-injection fake upstreams for drilling a configuration: loopback fakes of
// the three network protocols (a generic JSON model, OpenAI Chat Completions, KServe V2) that answer
// normally or fail the way real upstreams do, and failures below HTTP (refused, never accepted).
// Only node built-ins are used, so it works under any test framework; see docs/testing.md.

export { defaultViolation, startFakeServer } from './fake-server.js';
export type { FakeAnswer, FakeBehaviour, FakeProtocol, FakeServer, ReceivedRequest } from './fake-server.js';
export { httpModelViolation, keywordSpamModel, startFakeHttpModel } from './fake-http-model.js';
export type { FakeHttpModel, FakeHttpModelOptions, FakeModelReply } from './fake-http-model.js';
export { exampleOf, openaiViolation, startFakeOpenAI, tokenize } from './fake-openai.js';
export type { FakeChatReply, FakeOpenAI, FakeOpenAIOptions, FakeToken } from './fake-openai.js';
export { fakeSpamClassifier, kserveV2Violation, startFakeKServeV2 } from './fake-kserve-v2.js';
export type { FakeKServeModel, FakeKServeV2, FakeKServeV2Options, FakeTensor, FakeTensorMetadata, FakeTensorViolation } from './fake-kserve-v2.js';
export { minimalAnswer, startFakeUpstreamMinimal } from './fake-upstream-minimal.js';
export type { MinimalUpstream } from './fake-upstream-minimal.js';
export { refusingUrl, startNeverAccepting } from './network-faults.js';
export type { NeverAccepting } from './network-faults.js';
