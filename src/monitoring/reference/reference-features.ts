// Which input fields a reference profile sketches, from the contract's field annotations given as plain data.
import { featureKinds, type FeatureKind } from '../sketches/index.js';

/** One input field to sketch and how. */
export interface ReferenceFeature {
  readonly name: string;
  readonly kind: FeatureKind;
}

/** An input field (or file column) left out of a reference, and why. */
export interface SkippedField {
  readonly name: string;
  readonly reason: string;
}

/** The part of a contract field annotation that decides whether and how a field is sketched. */
export interface FieldAnnotationLike {
  readonly kind?: string;
  readonly pii?: boolean;
}

/** The profile the monitors compare live traffic with; other names are kept for comparison and history. */
export const DEFAULT_REFERENCE_NAME = 'default';

/** What a reference profile may be called (as model version names). */
export const referenceNamePattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$';

/** Why personal data is never sketched; shown wherever a pii field is skipped. */
export const PII_SKIP_REASON = 'pii: never sketched';

/**
 * The features of a reference: annotated fields with a kind, except pii fields. Pii fields are
 * skipped rather than hashed: a keyed hash is still personal data (pseudonymous) kept for as long as
 * the profile, its top categories would be unreadable hashes of mostly unique values, and a rotated
 * redaction key would make every one of them drift.
 */
export function referenceFeaturesOf(fields: Iterable<readonly [string, FieldAnnotationLike]>): { features: ReferenceFeature[]; skipped: SkippedField[] } {
  const features: ReferenceFeature[] = [];
  const skipped: SkippedField[] = [];
  for (const [name, annotation] of fields) {
    if (annotation.pii === true) skipped.push({ name, reason: PII_SKIP_REASON });
    else if (annotation.kind === undefined) skipped.push({ name, reason: 'no kind annotation in the contract' });
    else if ((featureKinds as readonly string[]).includes(annotation.kind)) features.push({ name, kind: annotation.kind as FeatureKind });
    else skipped.push({ name, reason: `unknown kind ${JSON.stringify(annotation.kind)}` });
  }
  return { features, skipped };
}
