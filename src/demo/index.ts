// The demo's entry points for the CLI. The demo uses only Ballast's public surfaces: the config
// file format, the module adapter's model interface and the HTTP API.
export { DEMO_MIN_SAMPLES, demoConfig, writeDemoConfig, type DemoAlertTarget } from './demo-config.js';
export { fetchMonitoringReport, formatAlerts, formatMonitoringReport, type AttentionLine, type MonitoringReport, type MonitoringReportContext, type ReportAlert, type WeekLine } from './monitoring-report.js';
export { writeSpamReferenceFile, REFERENCE_FILE } from './reference-file.js';
export { isLabelled, replayTraffic, weekOf, type ReplayedDecision, type ReplayOptions, type ReplayResult } from './replay.js';
export { ballastCommand, DEMO_RUN_MARKER, demoRunDir, displayPath, prepareDemoRunDir, shellWord } from './run-dir.js';
export { formatBreakerLines, formatSummary, quantile, summarize, type BreakerChange, type DemoSummary } from './summary.js';
export { loadOrTrainSpamBayes, loadOrTrainSpamModel } from './train-cache.js';
export { DEMO_CHECKER, DEMO_CHECKER_VERSION, fetchSettledLabels, formatCrossChecks, summarizeCrossChecks, type CrossCheckSummary } from './cross-check-report.js';
export { startDemoReceiver, type DemoReceiver, type ReceivedDelivery } from './webhook-receiver.js';
export type { SpamMessage } from './spam-corpus.js';
export { apiClient, DEMO_SECOND_VERSION, formatRollout, inHoldout, measureRollback, planPhases, secondRevisionText, secondVersionEntry, trainSecondVersion, writeFirstTrainingData, type LoopPhases, type RollbackDrill, type RolloutStatus, type SecondVersion } from './safe-change-loop.js';
export { workReviewQueue, type DemoReviewer, type ReviewSessionOptions, type ReviewSessionResult, type SeenItem } from './review-team.js';
export { formatPeopleMonitors, formatReviewStats, type DemoReviewStats, type DemoWindowEvaluation } from './review-report.js';
export { DEMO_REVIEW_SLA } from './demo-config.js';
export { CREDIT_SERVICE, creditServiceConfig } from './credit-config.js';
export { CREDIT_SECOND_VERSION, exportAndRetrain, type CreditRetrain, creditAnswer, fileCreditAppeal, formatFairness, prepareCredit, replayCredit, type CreditDecision, type DemoFairnessReport, type PreparedCredit } from './credit-loop.js';
export { creditLabelOf } from './credit-data.js';
export { formatOwnershipReport, startDemoOnCall, type DemoOnCall } from './ownership-report.js';
export { CREDIT_RUNBOOK, CREDIT_OWNERS } from './credit-config.js';
export { DEMO_ESCALATION_AFTER, SPAM_OWNERS, SPAM_RUNBOOK } from './demo-config.js';
