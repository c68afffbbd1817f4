// The review queue: humans in the decision path.
export { resolveReviewConfig, reviewConfigOf, reviewConfigSchema, reviewDefaults, type ResolvedReviewConfig, type ReviewConfig } from './review-config.js';
export { highStakesPriority, isHighStakes, planReviewTicket, type PlannedDecision, type ReviewTicketPlan } from './review-plan.js';
export { agreesWithModel, checkVerdict, createReviewQueue, outcomeOf, type ReviewEventType, type ReviewItemView, type ReviewOutcome, type ReviewQueue, type ReviewQueueDeps, type ReviewVerdictInput } from './review-queue.js';
export { createReviewStats, type ReviewerFigures, type ReviewStats, type ReviewStatsReport } from './review-stats.js';
export { advisoryPoints, advisoryReport, wilsonInterval, type AdvisoryBand, type AdvisoryPoint, type AdvisoryReport, type ThresholdPoint } from './advisory.js';
export { appealPriority, createAppeals, readAppeal, type AppealInput, type Appeals } from './appeals.js';
export { checkExportRequest, csvField, datasetFormats, exportDataset, finalLabel, labelPrecedence, labelRule, manifestPathOf, writeDatasetExport, type DatasetExportOptions, type DatasetFormat, type DatasetManifest, type DatasetRow, type FinalLabel, type LabelKind, type LabelProvenance } from './dataset-export.js';
