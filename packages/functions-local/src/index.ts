/**
 * @fabrikam/functions-local: runs an Azure Functions v4 Node app on one machine. The app is
 * loaded unchanged through the `@azure/functions-core` seam; what is specific to it comes in as a
 * profile (host/profile.ts). One folder per emulated service: durable/ (the orchestration engine
 * and the Durable extension's HTTP API), eventhubs/, cosmos/ (the write-ahead log over the
 * Cosmos DB stand-in), lake/ (the ADLS endpoint and the Capture writer), timers/ (NCRONTAB),
 * http/ (the Functions host's HTTP front end), azurite/; host/ wires them into one runtime.
 */
export { startLocalRuntime, DEFAULT_CAPTURE_WINDOW_MS, DEFAULT_DATA_DIR, RUNTIME_INFO_FILE } from './host/runtime';
export type { LocalRuntime, LocalRuntimeEndpoints, LocalRuntimeOptions } from './host/runtime';
export type { CapturedHubDecl, LocalAppProfile, StandInEndpoints } from './host/profile';
export { localSettings, readLocalSettings } from './host/local-settings';
export { describeRuntime } from './host/registry';
export { provisionBlobs, provisionCosmos } from './host/provision';
export type { BlobContainerSpec, CosmosContainerSpec } from './host/provision';
export { consoleLogger, createInvocationContext, describeError, silentLogger } from './host/invocation';
export type { AfterInvocation, LocalLogger } from './host/invocation';
export { AZURITE_ACCOUNT, AZURITE_KEY, freePort, startAzurite, startCosmos } from './host/standins';
export type { AzuriteHandle, CosmosHandle } from './host/standins';
export { currentRegistry, installFunctionsCore, loadApp } from './core/functions-core';
export { startCpuProfile } from './core/cpu-profiler';
export { readHostOptions } from './host/host-options';
export type { HostOptions } from './host/host-options';
export type { FunctionMetadata, FunctionRegistry, RegisteredFunction } from './core/functions-core';
export { ManualClock, realClock, settle, sleep, systemClock, VirtualClock, wallClock } from './clock';
export type { Clock } from './clock';
export * from './durable';
export { EventHubNamespace } from './eventhubs';
export type { EventHubDecl, EventToPublish, PublishedEvent } from './eventhubs/hub';
export { HttpHost } from './http/host';
export type { HttpHostOptions, LocalRequest, LocalResponse, LocalRoute } from './http/host';
export { plainPrincipalHeaders, plainProblem } from './http/options';
export type { FieldProblem, Principal, PrincipalHeaders, ProblemResponder } from './http/options';
export type { StaticSite } from './http/static-site';
export { encodeCaptureFile, formatEnqueuedTimeUtc } from './lake/capture-format';
export { CaptureWriter } from './lake/capture-writer';
export type { CaptureInput, CapturedFile } from './lake/capture-writer';
export { startLakeServer } from './lake/server';
export type { LakeServerHandle } from './lake/server';
export { startDurableCosmos } from './cosmos/wal';
export { installLinearQueries, libraryCompiled, linearFrom } from './cosmos/linear-queries';
export { installSharedShapes, sharedShape, sharedShapesInstalled } from './cosmos/shared-shapes';
export { startCosmosThread } from './cosmos/thread';
export type { StandInProfiler, ThreadedCosmosHandle } from './cosmos/thread';
export type { DurableCosmosHandle } from './cosmos/wal';
export { TimerScheduler, parseNcrontab, nextOccurrence } from './timers/scheduler';
