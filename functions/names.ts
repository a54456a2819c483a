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
} as const;

export const ROUTES = {
  health: 'health',
} as const;
