import { writeFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ageBandOf, creditColumns, creditLabelOf, GERMAN_CREDIT_CSV, isCreditTrainRow, loadGermanCredit, parseCreditCsv, sexOf, splitCreditRows, type CreditRow } from './credit-data.js';

const rows = loadGermanCredit();
const count = (values: readonly string[]): Record<string, number> => values.reduce<Record<string, number>>((c, v) => ({ ...c, [v]: (c[v] ?? 0) + 1 }), {});
const dir = mkdtempSync(join(tmpdir(), 'credit-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('German Credit data', () => {
  it('has 1,000 rows with the published class, personal_status and foreign_worker counts', () => {
    expect(rows).toHaveLength(1000);
    expect(count(rows.map((r) => r.class))).toEqual({ good: 700, bad: 300 });
    expect(count(rows.map((r) => r.foreign_worker))).toEqual({ yes: 963, no: 37 });
    expect(count(rows.map((r) => r.personal_status))).toEqual({ 'male single': 548, 'male mar/wid': 92, 'male div/sep': 50, 'female div/dep/mar': 310 });
    expect(rows.map((r) => r.index)).toEqual(rows.map((_, i) => i));
  });

  it('types the numeric columns and keeps the symbolic values as they are', () => {
    const [first, second] = rows;
    expect(first).toMatchObject({ checking_status: '<0', duration: 6, credit_history: 'critical/other existing credit', credit_amount: 1169, personal_status: 'male single', age: 67, existing_credits: 2, class: 'good' });
    expect(second).toMatchObject({ checking_status: '0<=X<200', duration: 48, credit_amount: 5951, personal_status: 'female div/dep/mar', age: 22, class: 'bad' });
    for (const r of rows) for (const column of ['duration', 'credit_amount', 'age', 'num_dependents'] as const) expect(Number.isInteger(r[column])).toBe(true);
    expect(Math.min(...rows.map((r) => r.age))).toBe(19);
    expect(Math.max(...rows.map((r) => r.credit_amount))).toBe(18424);
  });

  it('derives sex, age band and foreign_worker', () => {
    expect(rows[0]).toMatchObject({ sex: 'male', age_band: '60_plus', foreign_worker: 'yes' });
    expect(rows[1]).toMatchObject({ sex: 'female', age_band: 'under_25', foreign_worker: 'yes' });
    expect(count(rows.map((r) => r.sex))).toEqual({ male: 690, female: 310 });
    expect(count(rows.map((r) => r.age_band))).toEqual({ under_25: 149, '25_to_59': 800, '60_plus': 51 });
    expect([ageBandOf(24), ageBandOf(25), ageBandOf(59), ageBandOf(60)]).toEqual(['under_25', '25_to_59', '25_to_59', '60_plus']);
    expect(sexOf('female div/dep/mar')).toBe('female');
    expect(sexOf('male div/sep')).toBe('male');
    expect(() => sexOf('unknown')).toThrow(RangeError);
    // The "young applicants" effect the age band is there to show: fewer good risks under 25.
    const goodRate = (band: string): number => rows.filter((r) => r.age_band === band && r.class === 'good').length / rows.filter((r) => r.age_band === band).length;
    expect(goodRate('under_25')).toBeLessThan(goodRate('25_to_59') - 0.1);
  });

  it('splits by a hash of the row index: about 70/30, fixed, and with both classes on each side', () => {
    const { train, live } = splitCreditRows(rows);
    expect(train.length + live.length).toBe(1000);
    expect(train).toHaveLength(697);
    expect(live).toHaveLength(303);
    expect(new Set([...train, ...live].map((r) => r.index)).size).toBe(1000);
    expect(train.every((r) => isCreditTrainRow(r.index)) && live.every((r) => !isCreditTrainRow(r.index))).toBe(true);
    // Not a stride of the file: neighbours land on either side.
    expect(live.map((r) => r.index).slice(0, 5)).not.toEqual([7, 8, 9, 17, 18]);
    expect(count(train.map((r) => r.class))).toEqual({ good: 495, bad: 202 });
    expect(count(live.map((r) => r.class))).toEqual({ good: 205, bad: 98 });
    expect(splitCreditRows(rows)).toEqual({ train, live });
  });

  it('maps the class to the decision it stands for', () => {
    expect(creditLabelOf({ class: 'good' })).toBe('approve');
    expect(creditLabelOf({ class: 'bad' })).toBe('decline');
  });

  it('reads CRLF and LF files alike, caches the packaged one and freezes its rows', () => {
    const text = readFileSync(GERMAN_CREDIT_CSV, 'utf8');
    expect(text).toContain('\r\n');
    const lf = join(dir, 'lf.csv');
    writeFileSync(lf, text.replace(/\r\n/g, '\n'));
    expect(loadGermanCredit(lf)).toEqual(rows);
    expect(loadGermanCredit()).toBe(rows);
    expect(Object.isFrozen(rows[3] as CreditRow)).toBe(true);
  });

  it('refuses a wrong header, a short line, a non-integer, an unknown class and quotes', () => {
    const header = creditColumns.join(',');
    const good = '<0,6,all paid,radio/tv,1169,<100,>=7,4,male single,none,4,car,67,none,own,2,skilled,1,yes,yes,good';
    expect(parseCreditCsv(`${header}\n${good}\n`)).toHaveLength(1);
    expect(() => parseCreditCsv(`x,${header}\n${good}`)).toThrow(/header/);
    expect(() => parseCreditCsv(`${header}\n${good.slice(0, -5)}`)).toThrow(/20 fields/);
    expect(() => parseCreditCsv(`${header}\n${good.replace(',1169,', ',11.5,')}`)).toThrow(/credit_amount "11.5" is not an integer/);
    expect(() => parseCreditCsv(`${header}\n${good.replace(/good$/, 'ok')}`)).toThrow(/class "ok"/);
    expect(() => parseCreditCsv(`${header}\n${good.replace('radio/tv', '"radio,tv"')}`)).toThrow(/quoted/);
  });
});
