export { createDecisionMetrics, type DecisionMetrics, type ObservedDecision, type ObservedMonitorStatus } from './decision-metrics.js';
