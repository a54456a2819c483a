/**
 * Names shared by registrations and their callers: functions, activities, hubs, routes and
 * external events. A rename happens here once.
 */
export const HUBS = {
  telemetry: 'telemetry',
  deliveryEvents: 'delivery-events',
} as const;

/** App settings that hold each trigger's consumer group (resolved by the host as %Name%). */
export const CONSUMER_GROUP_SETTINGS = {
  ingestion: 'TelemetryConsumerGroup',
  projector: 'ProjectorConsumerGroup',
} as const;

/** Binding connection prefixes: the host reads `<prefix>__fullyQualifiedNamespace` etc. */
export const CONNECTIONS = {
  eventHubs: 'EventHubConnection',
} as const;

export const FUNCTIONS = {
  ingestTelemetry: 'ingestTelemetry',
  health: 'health',
  projectDeliveryEvents: 'projectDeliveryEvents',
  getDeliveryStatus: 'getDeliveryStatus',
  getDeliveryHistory: 'getDeliveryHistory',
  getDrone: 'getDrone',
  openApi: 'openApi',
  rebuildViews: 'rebuildViews',
  getRebuildJob: 'getRebuildJob',
  requestDelivery: 'requestDelivery',
  cancelDelivery: 'cancelDelivery',
  superviseSagas: 'superviseSagas',
  getDeliveryTrace: 'getDeliveryTrace',
  getDeliveryReport: 'getDeliveryReport',
  opsListDrones: 'opsListDrones',
  opsListDeliveries: 'opsListDeliveries',
  opsDeliveryTimeline: 'opsDeliveryTimeline',
  opsListDeadLetters: 'opsListDeadLetters',
  opsReplayDeadLetter: 'opsReplayDeadLetter',
  opsSupervisorAlerts: 'opsSupervisorAlerts',
  opsHubLag: 'opsHubLag',
} as const;

/** Orchestrations (the scheduler) and activities (the agents), by registered name. */
export const ORCHESTRATIONS = {
  deliverySaga: 'deliverySaga',
  deliveryRecovery: 'deliveryRecovery',
  rebuildViewsJob: 'rebuildViewsJob',
} as const;

export const ACTIVITIES = {
  createPackage: 'CreatePackage',
  cancelPackage: 'CancelPackage',
  assignDrone: 'AssignDrone',
  releaseDrone: 'ReleaseDrone',
  scheduleDelivery: 'ScheduleDelivery',
  cancelDeliverySchedule: 'CancelDeliverySchedule',
  completeDelivery: 'CompleteDelivery',
  emitDeliveryEvent: 'EmitDeliveryEvent',
  closeIntake: 'CloseIntake',
  rebuildViewsSlice: 'RebuildViewsSlice',
} as const;

/** External events raised on a delivery's saga (milestone names come from domain/telemetry/milestones). */
export const SAGA_EVENTS = {
  cancelRequested: 'CancelRequested',
  supervisorCompensate: 'SupervisorCompensate',
} as const;

/** A recovery orchestration's instance id, derived from its delivery's. */
export const recoveryInstanceId = (deliveryId: string): string => `${deliveryId}:recovery`;

export const ROUTES = {
  health: 'health',
  deliveryHistory: 'deliveries/{deliveryId}/history',
  drone: 'drones/{droneId}',
  openApi: 'openapi.json',
  /**
   * Not under `admin/`: the Functions host reserves routes starting with `admin` for its own
   * API and refuses such a function ("conflicts with one or more built in routes",
   * Azure/azure-functions-host#1781), whatever the route prefix.
   */
  rebuildViews: 'ops/rebuild-views',
  rebuildJob: 'ops/rebuild-views/{jobId}',
  deliveries: 'deliveries',
  delivery: 'deliveries/{deliveryId}',
  deliveryTrace: 'ops/deliveries/{deliveryId}/trace',
  deliveryReport: 'ops/report',
  /** The operations console's admin reads (and dead-letter replay), all under ops/. */
  opsDrones: 'ops/drones',
  opsDeliveries: 'ops/deliveries',
  opsDeliveryTimeline: 'ops/deliveries/{deliveryId}/timeline',
  opsDeadLetters: 'ops/dead-letters',
  opsReplayDeadLetter: 'ops/dead-letters/replay',
  opsSupervisorAlerts: 'ops/supervisor-alerts',
  opsHubLag: 'ops/hub-lag',
} as const;
