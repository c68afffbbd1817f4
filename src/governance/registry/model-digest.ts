// A model version's digest. Files named by a spec are hashed (streamed, never held whole); a URL is
// recorded and never downloaded, its sha256 taken as given or left null and reported unverified.
//
// What the digest covers: what changes the version's answers, and nothing else — the adapter's config,
// the module adapter's own file, every artifact's name, reference and digest, and the training data's
// reference and digest. Description, evaluation and card are metadata of the same version: outside the
// digest (so approvals bound to it survive a typo fixed before registration), but immutable once
// registered all the same — the registry refuses a different spec under the same name, naming the keys.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from '../../contracts/index.js';
import { BallastError, type Issue } from '../../errors/index.js';
import type { DigestedArtifact, DigestedModelVersionSpec, ModelVersionSpec } from './model-spec.js';

export interface DigestOptions {
  /** Relative paths resolve against this directory (the config file's). */
  readonly baseDir: string;
}

export interface DigestedModelVersion {
  /** `sha256:<hex>` over the canonical JSON of the behavioural part of `spec`. */
  readonly digest: string;
  readonly spec: DigestedModelVersionSpec;
  /** Pointers (into the spec) of remote references registered without a digest. */
  readonly unverified: readonly string[];
}

const isUrl = (ref: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(ref);

/** Hex SHA-256 of a file, streamed. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The part of a digested spec its digest is taken over. */
export function behaviourOf(spec: DigestedModelVersionSpec): unknown {
  return { adapter: spec.adapter, adapterFile: spec.adapterFile, artifacts: spec.artifacts, trainingData: spec.trainingData === undefined ? undefined : { ref: spec.trainingData.ref, sha256: spec.trainingData.sha256 } };
}

/** A digest as people read it: its first 12 hex digits (without the `sha256:` prefix). */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** `sha256:<hex>` of a digested spec (see the file's head for what it covers). */
export function versionDigest(spec: DigestedModelVersionSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(behaviourOf(spec)), 'utf8').digest('hex')}`;
}

/**
 * Hashes the files a spec names and returns its digest with every sha256 filled in. A file that cannot
 * be read rejects with MODEL_ARTIFACT_UNREADABLE, a given sha256 that the file does not have with
 * CONFIG_INVALID; each issue points into the spec, and all of them are reported at once.
 */
export async function digestModelVersion(spec: ModelVersionSpec, options: DigestOptions): Promise<DigestedModelVersion> {
  const unreadable: Issue[] = [];
  const mismatched: Issue[] = [];
  const unverified: string[] = [];

  const hashAt = async (file: string, pointer: string, given: string | undefined): Promise<string | null> => {
    let actual: string;
    try {
      actual = await sha256File(path.resolve(options.baseDir, file));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
      unreadable.push({ pointer, code: 'unreadable', message: `cannot read ${file} to hash it (${reason})` });
      return null;
    }
    if (given !== undefined && given.toLowerCase() !== actual) {
      mismatched.push({ pointer: `${pointer.replace(/\/(path|ref)$/, '')}/sha256`, code: 'digest_mismatch', message: `${file} has sha256 ${actual}, not the ${given} given` });
    }
    return actual;
  };

  const artifacts = spec.artifacts === undefined ? undefined : await Promise.all(
    spec.artifacts.map(async (a, i): Promise<DigestedArtifact> => {
      if (a.path !== undefined) return { ...a, sha256: await hashAt(a.path, `/artifacts/${i}/path`, a.sha256) };
      if (a.sha256 === undefined) unverified.push(`/artifacts/${i}`);
      return { ...a, sha256: a.sha256?.toLowerCase() ?? null };
    }),
  );

  let trainingData: DigestedModelVersionSpec['trainingData'];
  if (spec.trainingData !== undefined) {
    const t = spec.trainingData;
    if (isUrl(t.ref)) {
      if (t.sha256 === undefined) unverified.push('/trainingData');
      trainingData = { ...t, sha256: t.sha256?.toLowerCase() ?? null };
    } else {
      trainingData = { ...t, sha256: await hashAt(t.ref, '/trainingData/ref', t.sha256) };
    }
  }

  // The module adapter loads code from a file: that file is as much the version as any artifact.
  let adapterFile: DigestedModelVersionSpec['adapterFile'];
  if (spec.adapter.kind === 'module' && typeof spec.adapter.path === 'string') {
    const sha256 = await hashAt(spec.adapter.path, '/adapter/path', undefined);
    if (sha256 !== null) adapterFile = { path: spec.adapter.path, sha256 };
  }

  if (unreadable.length > 0) {
    throw new BallastError('MODEL_ARTIFACT_UNREADABLE', { detail: `${unreadable.length} file${unreadable.length === 1 ? '' : 's'} of the model version cannot be read`, issues: [...unreadable, ...mismatched] });
  }
  if (mismatched.length > 0) {
    throw new BallastError('CONFIG_INVALID', { detail: 'a file of the model version does not have the sha256 given for it', issues: mismatched });
  }

  const { artifacts: _artifacts, trainingData: _trainingData, ...rest } = spec;
  const digested: DigestedModelVersionSpec = {
    ...rest,
    ...(artifacts === undefined ? {} : { artifacts }),
    ...(trainingData === undefined ? {} : { trainingData }),
    ...(adapterFile === undefined ? {} : { adapterFile }),
  };
  // A plain JSON value, as it will read back from the store.
  const plain = JSON.parse(JSON.stringify(digested)) as DigestedModelVersionSpec;
  return { digest: versionDigest(plain), spec: plain, unverified };
}

/**
 * Where two digested specs differ, as pointers (for MODEL_VERSION_CONFLICT): the top-level keys that
 * differ, and within artifacts, the entries.
 */
export function specDifferences(registered: DigestedModelVersionSpec, candidate: DigestedModelVersionSpec): string[] {
  const a = registered as unknown as Record<string, unknown>;
  const b = candidate as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: string[] = [];
  for (const key of keys) {
    if (canonicalJson(a[key] ?? null) === canonicalJson(b[key] ?? null)) continue;
    const left = a[key];
    const right = b[key];
    if (Array.isArray(left) && Array.isArray(right)) {
      const n = Math.max(left.length, right.length);
      for (let i = 0; i < n; i++) if (canonicalJson(left[i] ?? null) !== canonicalJson(right[i] ?? null)) out.push(`/${key}/${i}`);
    } else if (isRecord(left) && isRecord(right)) {
      const inner = [...new Set([...Object.keys(left), ...Object.keys(right)])].sort();
      for (const k of inner) if (canonicalJson(left[k] ?? null) !== canonicalJson(right[k] ?? null)) out.push(`/${key}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    } else {
      out.push(`/${key}`);
    }
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
