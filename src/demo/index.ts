// The demo's entry points for the CLI. The demo uses only Ballast's public surfaces: the config
// file format, the module adapter's model interface and the HTTP API.
export { demoConfig, writeDemoConfig, type DemoAlertTarget } from './demo-config.js';
export { fetchMonitoringReport, formatMonitoringReport, type MonitoringReport, type WeekLine } from './monitoring-report.js';
export { writeSpamReferenceFile, REFERENCE_FILE } from './reference-file.js';
export { isLabelled, replayTraffic, type ReplayedDecision, type ReplayOptions, type ReplayResult } from './replay.js';
export { formatSummary, quantile, summarize, type DemoSummary } from './summary.js';
export { loadOrTrainSpamModel } from './train-cache.js';
export type { SpamMessage } from './spam-corpus.js';
