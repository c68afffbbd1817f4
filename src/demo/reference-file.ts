// The demo's reference data: the messages the model was trained on, with the truth and the model's own
// prediction and confidence, as the JSONL file a user would hand to `ballast reference build`.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { TrainedSpamModel } from './train-cache.js';

export const REFERENCE_FILE = 'reference.jsonl';

/**
 * Writes `reference.jsonl` into `dir`: one line per training message with the model's input fields,
 * `label` (the truth), `prediction` and `confidence`. The predictions are out-of-fold (5-fold
 * cross-validation): in-sample predictions would be right nearly always, and calibration, CBPE and
 * the reference accuracy learnt from them would promise far more than the model delivers.
 */
export async function writeSpamReferenceFile(dir: string, model: Pick<TrainedSpamModel, 'train' | 'outOfFold'>): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, REFERENCE_FILE);
  const out = createWriteStream(file, { encoding: 'utf8' });
  for (const message of model.train) {
    const prediction = model.outOfFold.get(message.id);
    const line = JSON.stringify({
      subject: message.subject,
      body: message.body,
      from: message.from,
      ...(message.date === null ? {} : { sent_at: message.date.toISOString() }),
      label: message.label,
      ...(prediction === undefined ? {} : { prediction: prediction.label, confidence: prediction.confidence }),
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}
