// The Statlog German Credit data set (data/german-credit/, attribution in its README) for the demo's
// `credit-precheck` service: typed rows, the protected attributes derived from them, and a fixed split
// into the rows the demo trains on and the rows it serves.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The packaged CSV. src/demo/ (vitest) and dist/demo/ (built) are both two levels below the package
 * root, and package.json "files" ships data/, so one relative URL serves both.
 */
export const GERMAN_CREDIT_CSV = fileURLToPath(new URL('../../data/german-credit/german-credit.csv', import.meta.url));

/** The numeric columns, in file order. */
export const creditNumericColumns = ['duration', 'credit_amount', 'installment_commitment', 'residence_since', 'age', 'existing_credits', 'num_dependents'] as const;
export type CreditNumericColumn = (typeof creditNumericColumns)[number];

/** The categorical columns, in file order (`class` excluded). */
export const creditCategoricalColumns = [
  'checking_status',
  'credit_history',
  'purpose',
  'savings_status',
  'employment',
  'personal_status',
  'other_parties',
  'property_magnitude',
  'other_payment_plans',
  'housing',
  'job',
  'own_telephone',
  'foreign_worker',
] as const;
export type CreditCategoricalColumn = (typeof creditCategoricalColumns)[number];

/** The header of the file, in order. */
export const creditColumns = [
  'checking_status',
  'duration',
  'credit_history',
  'purpose',
  'credit_amount',
  'savings_status',
  'employment',
  'installment_commitment',
  'personal_status',
  'other_parties',
  'residence_since',
  'property_magnitude',
  'age',
  'other_payment_plans',
  'housing',
  'existing_credits',
  'job',
  'num_dependents',
  'own_telephone',
  'foreign_worker',
  'class',
] as const;

/** One applicant as the file has it: numbers for the numeric columns, the symbolic value (e.g. `<0`, `male single`) for the others. */
export type CreditRecord = { readonly [K in CreditNumericColumn]: number } & { readonly [K in CreditCategoricalColumn]: string } & { readonly class: 'good' | 'bad' };

export const ageBands = ['under_25', '25_to_59', '60_plus'] as const;
/**
 * Age bands. 25 is the cut AIF360 and Kamiran & Calders use for this data set: the applicants under 25
 * (149 of 1,000) are good risks 59% of the time against 72% for 25–59; 60 and over (51) is kept apart
 * because age-based treatment of older applicants is the other half of age discrimination.
 */
export type AgeBand = (typeof ageBands)[number];

/** The protected attributes the fairness monitors judge, derived from a record (a type, so it is indexable as a record). */
export type CreditProtected = {
  /** From `personal_status`: its values starting `female` are female, the rest (`male …`) male. */
  readonly sex: 'female' | 'male';
  readonly age_band: AgeBand;
  /** The file's `foreign_worker` (`yes`/`no`). */
  readonly foreign_worker: 'yes' | 'no';
};

/** A record with its protected attributes and its index (0-based, file order). */
export type CreditRow = CreditRecord & CreditProtected & { readonly index: number };

/** The band of an age in years. */
export function ageBandOf(age: number): AgeBand {
  if (!Number.isFinite(age)) throw new RangeError(`age must be a finite number, got ${age}`);
  return age < 25 ? 'under_25' : age < 60 ? '25_to_59' : '60_plus';
}

/** The sex a `personal_status` value records; the data set codes no other. */
export function sexOf(personalStatus: string): 'female' | 'male' {
  if (personalStatus.startsWith('female')) return 'female';
  if (personalStatus.startsWith('male')) return 'male';
  throw new RangeError(`personal_status ${JSON.stringify(personalStatus)} names neither female nor male`);
}

/** The protected attributes of a record. */
export function protectedOf(record: CreditRecord): CreditProtected {
  const foreign = record.foreign_worker;
  if (foreign !== 'yes' && foreign !== 'no') throw new RangeError(`foreign_worker must be yes or no, got ${JSON.stringify(foreign)}`);
  return { sex: sexOf(record.personal_status), age_band: ageBandOf(record.age), foreign_worker: foreign };
}

const numeric = new Set<string>(creditNumericColumns);

/**
 * Parses the CSV text. The file has no quoted fields and no commas inside values, so a split on commas
 * is exact; a quote anywhere is refused rather than mis-split. Throws TypeError on any malformed line.
 */
export function parseCreditCsv(text: string): CreditRow[] {
  if (text.includes('"')) throw new TypeError('german-credit CSV: quoted fields are not supported');
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const header = lines.shift()?.replace(/^\uFEFF/, '');
  if (header !== creditColumns.join(',')) throw new TypeError(`german-credit CSV: unexpected header ${JSON.stringify(header)}`);
  return lines.map((line, index) => {
    const cells = line.split(',');
    if (cells.length !== creditColumns.length) throw new TypeError(`german-credit CSV line ${index + 2}: ${cells.length} fields, expected ${creditColumns.length}`);
    const record: Record<string, string | number> = {};
    creditColumns.forEach((column, i) => {
      const cell = cells[i]!;
      if (numeric.has(column)) {
        const value = Number(cell);
        if (cell === '' || !Number.isInteger(value)) throw new TypeError(`german-credit CSV line ${index + 2}: ${column} ${JSON.stringify(cell)} is not an integer`);
        record[column] = value;
      } else {
        if (cell === '') throw new TypeError(`german-credit CSV line ${index + 2}: ${column} is empty`);
        record[column] = cell;
      }
    });
    if (record.class !== 'good' && record.class !== 'bad') throw new TypeError(`german-credit CSV line ${index + 2}: class ${JSON.stringify(record.class)} is neither good nor bad`);
    const typed = record as unknown as CreditRecord;
    return { ...typed, ...protectedOf(typed), index };
  });
}

let cached: readonly CreditRow[] | undefined;

/** The packaged data set's 1,000 rows (read and parsed once; the rows are frozen). */
export function loadGermanCredit(file: string = GERMAN_CREDIT_CSV): readonly CreditRow[] {
  const read = (): readonly CreditRow[] => Object.freeze(parseCreditCsv(readFileSync(file, 'utf8')).map((row) => Object.freeze(row)));
  if (file !== GERMAN_CREDIT_CSV) return read();
  cached ??= read();
  return cached;
}

/** The decision a row's class stands for: a good risk is one to approve. Feedback labels use it. */
export function creditLabelOf(row: Pick<CreditRecord, 'class'>): 'approve' | 'decline' {
  return row.class === 'good' ? 'approve' : 'decline';
}

/** Percent of the rows the demo trains on; the rest are served as live traffic. */
export const CREDIT_TRAIN_PERCENT = 70;

/**
 * Whether a row is a training row: FNV-1a of `german-credit:<index>`, mod 100, below CREDIT_TRAIN_PERCENT.
 * A hash of the index rather than a stride of the file order; fixed, so every run trains on the same
 * rows and serves the same others.
 */
export function isCreditTrainRow(index: number): boolean {
  return fnv1a(`german-credit:${index}`) % 100 < CREDIT_TRAIN_PERCENT;
}

/** The rows split into those to train on and those to serve, each in file order. */
export function splitCreditRows<R extends Pick<CreditRow, 'index'>>(rows: readonly R[]): { readonly train: R[]; readonly live: R[] } {
  const train: R[] = [];
  const live: R[] = [];
  for (const row of rows) (isCreditTrainRow(row.index) ? train : live).push(row);
  return { train, live };
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
