// Trains a spam model off the main thread: the demo trains its second version while the server it runs
// in is serving, and a second of training on the event loop would (rightly) make the server shed load.
import { parentPort, workerData } from 'node:worker_threads';
import { trainSpamModel, type LabelledSpamInput, type SpamTrainOptions } from './spam-model.js';

interface Job {
  readonly messages: readonly LabelledSpamInput[];
  readonly options: SpamTrainOptions;
}

const job = workerData as Job;
const started = performance.now();
const weights = trainSpamModel(job.messages, job.options);
parentPort!.postMessage({ weights, trainMs: performance.now() - started });
