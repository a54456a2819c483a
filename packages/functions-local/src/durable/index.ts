/**
 * The local Durable Functions engine's public surface: the engine, its clocks and stores, the
 * history types, and the HTTP API the real DurableClient talks to.
 */
export { DurableEngine, DurableEngineError } from './engine';
export type {
  ActivityInvocation,
  ActivityInvoker,
  ActivityRun,
  DeterminismReport,
  EventDelivery,
  DurableEngineErrorCode,
  DurableEngineOptions,
  InstanceQuery,
  InstanceStatus,
  ResultHold,
  StartOptions,
  StatusOptions,
} from './engine';
export { realClock, VirtualClock } from '../clock';
export type { Clock } from '../clock';
export { FileInstanceStore, isTerminal, MemoryInstanceStore, TERMINAL_STATUSES } from './store';
export type { InstanceRecord, InstanceStore, PendingWork, RuntimeStatus } from './store';
export { EventType, eventTypeName } from './history';
export type { FriendlyHistoryEvent, HistoryEvent } from './history';
export type { DurableRetryOptions } from './actions';
export { createDurableHttpHandler, DURABLE_WEBHOOK_PATH, startDurableHttpServer } from './http-api';
export type {
  DurableHttpHandler,
  DurableHttpHandlerOptions,
  DurableHttpServer,
  DurableHttpServerOptions,
} from './http-api';
export {
  bindDurableClient,
  buildDurableClientBindingData,
  durableClientInputNames,
  INSTANCE_ID_PLACEHOLDER,
  managementPayload,
} from './client-binding';
export type { DurableClientBindingData, DurableClientBindingOptions, HttpManagementPayload } from './client-binding';
