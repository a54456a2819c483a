/**
 * The `durableClient` input binding a local runtime hands to functions registered with
 * `df.input.durableClient()` (or `df.app.client.*`): the data object durable-functions'
 * `getClient` validates (`taskHubName`, `creationUrls`, `managementUrls`, …) with `rpcBaseUrl`
 * set, so every client call goes over HTTP to the engine's API and the app's code runs unchanged.
 */
import type { InvocationContext } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';

/** The placeholder the extension puts where an instance id goes in management URLs. */
export const INSTANCE_ID_PLACEHOLDER = 'INSTANCEID';

/** The binding types durable-functions' `getClient` accepts. */
const CLIENT_BINDING_TYPES = new Set(['durableClient', 'orchestrationClient']);

export interface HttpManagementPayload {
  readonly id: string;
  readonly statusQueryGetUri: string;
  readonly sendEventPostUri: string;
  readonly terminatePostUri: string;
  readonly rewindPostUri: string;
  readonly purgeHistoryDeleteUri: string;
  readonly restartPostUri: string;
  readonly suspendPostUri: string;
  readonly resumePostUri: string;
}

/** The shape of durable-functions' `OrchestrationClientInputData`. */
export interface DurableClientBindingData {
  readonly taskHubName: string;
  readonly creationUrls: {
    readonly createNewInstancePostUri: string;
    readonly createAndWaitOnNewInstancePostUri: string;
  };
  readonly managementUrls: HttpManagementPayload;
  readonly baseUrl: string;
  readonly requiredQueryStringParameters: string;
  readonly rpcBaseUrl: string;
}

export interface DurableClientBindingOptions {
  /** The engine API's base URL, with a trailing slash (what `startDurableHttpServer` reports). */
  readonly rpcBaseUrl: string;
  readonly taskHubName?: string;
  /** Base URL of the webhooks users reach (management links); defaults to `rpcBaseUrl`. */
  readonly publicBaseUrl?: string;
  readonly connectionName?: string;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Management links for one instance (or, with the placeholder, the templates the binding carries). */
export function managementPayload(
  baseUrl: string,
  taskHubName: string,
  instanceId: string,
  connectionName = 'Storage',
): HttpManagementPayload {
  const base = withSlash(baseUrl);
  const id = encodeURIComponent(instanceId);
  const qs = `taskHub=${encodeURIComponent(taskHubName)}&connection=${encodeURIComponent(connectionName)}`;
  const instance = `${base}instances/${id}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}?${qs}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${qs}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${qs}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${qs}`,
    purgeHistoryDeleteUri: `${instance}?${qs}`,
    restartPostUri: `${instance}/restart?${qs}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${qs}`,
    resumePostUri: `${instance}/resume?reason={text}&${qs}`,
  };
}

export function buildDurableClientBindingData(options: DurableClientBindingOptions): DurableClientBindingData {
  const taskHubName = options.taskHubName ?? 'LocalTaskHub';
  const connection = options.connectionName ?? 'Storage';
  const rpcBaseUrl = withSlash(options.rpcBaseUrl);
  const publicBase = withSlash(options.publicBaseUrl ?? rpcBaseUrl);
  const qs = `taskHub=${encodeURIComponent(taskHubName)}&connection=${encodeURIComponent(connection)}`;
  return {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${publicBase}orchestrators/{functionName}[/{instanceId}]?${qs}`,
      createAndWaitOnNewInstancePostUri: `${publicBase}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${qs}`,
    },
    managementUrls: managementPayload(publicBase, taskHubName, INSTANCE_ID_PLACEHOLDER, connection),
    baseUrl: publicBase.slice(0, -1),
    requiredQueryStringParameters: qs,
    rpcBaseUrl,
  };
}

/** Names of the function's durable client input bindings, from its captured metadata. */
export function durableClientInputNames(fn: RegisteredFunction): string[] {
  return Object.entries(fn.metadata.bindings)
    .filter(([, b]) => b.direction === 'in' && CLIENT_BINDING_TYPES.has(b.type))
    .map(([name]) => name);
}

/**
 * Sets the binding data on every durable client input the context declares (in
 * `context.options.extraInputs`, where `getClient` looks for it). Returns how many it set.
 */
export function bindDurableClient(context: InvocationContext, data: DurableClientBindingData): number {
  let count = 0;
  for (const input of context.options.extraInputs) {
    if (!CLIENT_BINDING_TYPES.has(input.type)) continue;
    context.extraInputs.set(input, data);
    count++;
  }
  return count;
}
