export {
  activeByVersion,
  MonitoringHub,
  type EvaluationResult,
  type HubEvaluation,
  type HubReference,
  type HubService,
  type HubStatus,
  type HubWindowInput,
  type MonitoringHubOptions,
  type MonitorStateName,
  type MonitorTransition,
  type ObservedRecord,
} from './monitoring-hub.js';
export { WindowAccumulator, type WindowAccumulatorJSON } from './window-accumulator.js';
export { monitorNotice, monitorNotices, monitorStateMessage, type MonitorNotice } from './monitor-notices.js';
