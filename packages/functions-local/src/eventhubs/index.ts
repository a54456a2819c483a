/** The in-process Event Hubs stand-in: hubs and storage, the trigger dispatcher, output bindings and the publish endpoint. */
export { DEFAULT_CONSUMER_GROUP, DEFAULT_PARTITION_COUNT, EventHub, EventHubNamespace, LOCAL_NAMESPACE } from './hub';
export type { EventHubNamespaceOptions, EventToPublish, PublishedEvent } from './hub';
export { EventHubTriggerDispatcher, startEventHubTriggers } from './trigger';
export type { EventHubTriggerOptions } from './trigger';
export { eventHubOutputHook, publishEventHubOutputs } from './outputs';
export { PUBLISH_ROUTE, eventHubsPublishRoute, parsePublishBody } from './publish-endpoint';
export { hashPartitionKey, partitionForKey } from './partition-key';
export type { Checkpoint, CheckpointKey, CheckpointStore, StoredEvent } from './store';
