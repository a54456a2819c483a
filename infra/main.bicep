// Fabrikam Drone Delivery Pipeline: everything the function app needs in Azure, composed from
// pinned Azure Verified Modules. Subscription scope so one deployment (azd up, or
// az deployment sub create) also creates the resource group.
//
// What is declared here mirrors the code's own declarations, and test/infra checks it:
//   - functionAppSettings   <-> functions/config.ts SETTINGS (every `app` setting, nothing stale)
//   - eventHubDefinitions   <-> functions/resources.ts EVENT_HUBS (hubs, consumer groups, capture)
//   - cosmosContainers      <-> functions/resources.ts COSMOS_CONTAINERS (partition keys, TTL)
//   - lakeContainers        <-> functions/resources.ts BLOB_CONTAINERS plus the Capture file system
// Every data-plane call uses the one user-assigned managed identity: no keys, no SAS, no
// connection strings; local auth is off wherever the service allows it.
targetScope = 'subscription'

// ── Parameters ──────────────────────────────────────────────────────────────────────────────

@minLength(1)
@maxLength(64)
@description('Required. Name of the azd environment; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Required. Azure region of every resource.')
param location string

@allowed([
  'dev'
  'prod'
])
@description('Optional. dev: the cheapest deployment that still runs end to end (Cosmos DB serverless, Event Hubs Standard 1 TU, short Capture windows, small instances, no API Management). prod: Cosmos DB autoscale, zone redundancy where offered, more partitions, optional API Management.')
param profile string = 'dev'

@description('Optional. Name of the resource group to create. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional. Object id of the person or pipeline running the deployment (azd sets AZURE_PRINCIPAL_ID). When set, it gets the same data-plane roles as the app on Event Hubs, the lake and Cosmos DB, so local runs against the deployed resources work with `az login`.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Optional. Principal type of principalId.')
param principalType string = 'User'

@description('Optional. Application (client) id of the Entra ID app registration that protects the HTTP API (see infra/README.md for its app roles Deliveries.Admin and Deliveries.Reader). Empty: App Service Authentication is not configured and every call but GET /api/health answers 401.')
param authClientId string = ''

@description('Optional. Tenant of the app registration. Default: the deployment\'s tenant.')
param authTenantId string = tenant().tenantId

@minValue(1)
@maxValue(32)
@description('Optional. Partitions of the telemetry hub (fixed after creation on Standard). Default: 2 (dev), 32 (prod).')
param telemetryPartitionCount int = profile == 'prod' ? 32 : 2

@minValue(1)
@maxValue(32)
@description('Optional. Partitions of the delivery-events hub. Default: 2 (dev), 16 (prod).')
param deliveryEventsPartitionCount int = profile == 'prod' ? 16 : 2

@minValue(1)
@maxValue(7)
@description('Optional. Days Event Hubs keeps events (Standard allows up to 7). Default: 1 (dev), 7 (prod).')
param eventHubsRetentionDays int = profile == 'prod' ? 7 : 1

@minValue(1)
@maxValue(20)
@description('Optional. Event Hubs throughput units (Capture is billed per TU). Default: 1 (dev), 2 (prod).')
param eventHubsThroughputUnits int = profile == 'prod' ? 2 : 1

@minValue(0)
@maxValue(20)
@description('Optional. Upper bound of auto-inflate; 0 turns auto-inflate off. Default: 0 (dev), 10 (prod).')
param eventHubsMaxThroughputUnits int = profile == 'prod' ? 10 : 0

@minValue(60)
@maxValue(900)
@description('Optional. Capture time window in seconds: a file per partition at least this often while events flow. Default: 60 (dev), 300 (prod).')
param captureIntervalSeconds int = profile == 'prod' ? 300 : 60

@minValue(10485760)
@maxValue(524288000)
@description('Optional. Capture size window in bytes: whichever window fills first closes the file. Default: 10 MiB (dev), 300 MiB (prod).')
param captureSizeLimitBytes int = profile == 'prod' ? 314572800 : 10485760

@minValue(1000)
@maxValue(1000000)
@description('Optional. prod only: autoscale maximum RU/s shared by the database\'s containers (billed from 10% of it). Ignored in dev, which is serverless.')
param cosmosAutoscaleMaxThroughput int = 4000

@allowed([
  512
  2048
  4096
])
@description('Optional. Flex Consumption instance memory in MB. Default: 512 (dev), 2048 (prod).')
param functionInstanceMemoryMB int = profile == 'prod' ? 2048 : 512

@minValue(40)
@maxValue(1000)
@description('Optional. Flex Consumption maximum instance count. Default: 40 (dev), 100 (prod).')
param functionMaximumInstanceCount int = profile == 'prod' ? 100 : 40

@description('Optional. Zone redundancy where the service offers it (Flex Consumption plan, Event Hubs, Cosmos DB, ZRS storage). Default: false (dev), true (prod). The region must support availability zones.')
param zoneRedundant bool = profile == 'prod'

@description('Optional. prod only: put API Management in front of the HTTP API with a rate-limit-by-key policy.')
param enableApiManagement bool = false

@allowed([
  'BasicV2'
  'StandardV2'
])
@description('Optional. API Management tier. The Consumption tier is not offered: it does not support the rate-limit-by-key policy.')
param apiManagementSku string = 'StandardV2'

@description('Optional. Publisher e-mail API Management requires.')
param apiManagementPublisherEmail string = 'drone-ops@fabrikam.example'

@description('Optional. Publisher name API Management requires.')
param apiManagementPublisherName string = 'Fabrikam Drone Delivery'

@minValue(1)
@description('Optional. Calls each caller (token subject, else client IP) may make per renewal period through API Management.')
param apiRateLimitCalls int = 120

@minValue(1)
@description('Optional. Renewal period of the rate limit, in seconds.')
param apiRateLimitPeriodSeconds int = 60

@minLength(3)
@maxLength(45)
@description('Optional. Durable Functions task hub name (letters and digits, starts with a letter). Default: fabrikam<profile>.')
param durableTaskHubName string = 'fabrikam${profile}'

@description('Optional. Create a `<group>-local` consumer group beside each declared one, so a developer machine can consume the deployed hubs without stealing partitions from the app. Default: true (dev), false (prod).')
param createLocalConsumerGroups bool = profile == 'dev'

@minValue(30)
@maxValue(730)
@description('Optional. Log Analytics retention in days. Default: 30 (dev), 90 (prod).')
param logRetentionDays int = profile == 'prod' ? 90 : 30

@description('Optional. Extra tags for every resource.')
param tags object = {}

// ── Names and shared values ─────────────────────────────────────────────────────────────────

var isProd = profile == 'prod'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var rgName = empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
var allTags = union(tags, {
  'azd-env-name': environmentName
  profile: profile
  workload: 'fabrikam-drone-delivery'
})

var identityName = 'id-${resourceToken}'
var logAnalyticsName = 'log-${resourceToken}'
var appInsightsName = 'appi-${resourceToken}'
var hostStorageName = 'st${resourceToken}'
var lakeStorageName = 'dls${resourceToken}'
var eventHubsNamespaceName = 'evhns-${resourceToken}'
var cosmosAccountName = 'cosmos-${resourceToken}'
var planName = 'plan-${resourceToken}'
var functionAppName = 'func-${resourceToken}'
var apiManagementName = 'apim-${resourceToken}'

var storageSuffix = environment().suffixes.storage
var lakeBlobEndpoint = 'https://${lakeStorageName}.blob.${storageSuffix}'
var lakeDfsEndpoint = 'https://${lakeStorageName}.dfs.${storageSuffix}'
var eventHubsFqdn = '${eventHubsNamespaceName}.servicebus.windows.net'
var storageSku = zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'

var cosmosDatabaseName = 'drone-delivery'
// Flex Consumption pulls the app package from this container, by identity.
var deploymentContainerName = 'deployments'
// The lake file system Capture writes to; the archive reader (ArchiveLakeFileSystem) reads it.
var captureContainerName = 'capture'
// Capture's path layout; functions/adapters/capture-format.ts parses exactly this.
var captureArchiveNameFormat = '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}'
var localConsumerGroupSuffix = '-local'

// Mirrors functions/resources.ts EVENT_HUBS: one consumer group per reading function.
var eventHubDefinitions = [
  {
    name: 'telemetry'
    partitionCount: telemetryPartitionCount
    consumerGroups: [
      'ingestion'
    ]
    capture: false
  }
  {
    name: 'delivery-events'
    partitionCount: deliveryEventsPartitionCount
    consumerGroups: [
      'projector'
    ]
    capture: true
  }
]

// Mirrors functions/resources.ts COSMOS_CONTAINERS: partition key, and defaultTtl where declared
// (-1: per-item TTL on, no default expiry; absent: TTL off).
var cosmosContainers = [
  {
    name: 'drones'
    partitionKey: '/id'
  }
  {
    name: 'intakes'
    partitionKey: '/id'
  }
  {
    name: 'packages'
    partitionKey: '/id'
  }
  {
    name: 'droneReservations'
    partitionKey: '/id'
  }
  {
    name: 'deliveries'
    partitionKey: '/id'
  }
  {
    name: 'deliveryEvents'
    partitionKey: '/deliveryId'
  }
  {
    name: 'deliveryStatus'
    partitionKey: '/id'
    defaultTtl: -1
  }
]

// The lake account: functions/resources.ts BLOB_CONTAINERS (dead letters) and the Capture file system.
var lakeContainers = [
  'deadletter'
  captureContainerName
]

// Built-in role definition ids (the same in every tenant). Least privilege: data-plane roles only.
var roles = {
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB's own data-plane role "Cosmos DB Built-in Data Contributor".
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

// ── Resource group ──────────────────────────────────────────────────────────────────────────

module rg 'br/public:avm/res/resources/resource-group:0.4.4' = {
  name: 'rg-${resourceToken}'
  params: {
    name: rgName
    location: location
    tags: allTags
  }
}

// ── Identity and monitoring ─────────────────────────────────────────────────────────────────

module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'identity-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: identityName
    location: location
    tags: allTags
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.16.1' = {
  name: 'log-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: logAnalyticsName
    location: location
    tags: allTags
    skuName: 'PerGB2018'
    dataRetention: logRetentionDays
    features: {
      disableLocalAuth: true
    }
  }
}

module appInsights 'br/public:avm/res/insights/component:0.8.0' = {
  name: 'appi-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: appInsightsName
    location: location
    tags: allTags
    workspaceResourceId: logAnalytics.outputs.resourceId
    // Ingestion only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below).
    disableLocalAuth: true
    roleAssignments: [
      {
        name: guid(subscription().id, rgName, appInsightsName, identityName, roles.monitoringMetricsPublisher)
        roleDefinitionIdOrName: roles.monitoringMetricsPublisher
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
      }
    ]
  }
}

// ── Host storage: Durable Functions task hub, Event Hubs checkpoints, timers, app package ───

module hostStorage 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'st-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: hostStorageName
    location: location
    tags: allTags
    kind: 'StorageV2'
    skuName: storageSku
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [
        {
          name: deploymentContainerName
          publicAccess: 'None'
        }
      ]
    }
    // Durable Functions' Azure Storage provider needs blobs (leases), queues and tables.
    roleAssignments: [
      {
        name: guid(subscription().id, rgName, hostStorageName, identityName, roles.storageBlobDataOwner)
        roleDefinitionIdOrName: roles.storageBlobDataOwner
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
      }
      {
        name: guid(subscription().id, rgName, hostStorageName, identityName, roles.storageQueueDataContributor)
        roleDefinitionIdOrName: roles.storageQueueDataContributor
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
      }
      {
        name: guid(subscription().id, rgName, hostStorageName, identityName, roles.storageTableDataContributor)
        roleDefinitionIdOrName: roles.storageTableDataContributor
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
      }
    ]
  }
}

// ── Data Lake (ADLS Gen2): Capture archive and dead letters ─────────────────────────────────

var lakeAppRoles = [
  {
    // Also Capture's identity: the namespace writes the archive as the same managed identity.
    name: guid(subscription().id, rgName, lakeStorageName, identityName, roles.storageBlobDataContributor)
    roleDefinitionIdOrName: roles.storageBlobDataContributor
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
]
var lakeDeveloperRoles = empty(principalId) ? [] : [
  {
    name: guid(subscription().id, rgName, lakeStorageName, principalId, roles.storageBlobDataContributor)
    roleDefinitionIdOrName: roles.storageBlobDataContributor
    principalId: principalId
    principalType: principalType
  }
]

module lake 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'dls-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: lakeStorageName
    location: location
    tags: allTags
    kind: 'StorageV2'
    skuName: storageSku
    enableHierarchicalNamespace: true
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    blobServices: {
      containers: [for c in lakeContainers: {
        name: c
        publicAccess: 'None'
      }]
    }
    roleAssignments: concat(lakeAppRoles, lakeDeveloperRoles)
  }
}

// ── Event Hubs ──────────────────────────────────────────────────────────────────────────────

var eventHubsAppRoles = [
  {
    name: guid(subscription().id, rgName, eventHubsNamespaceName, identityName, roles.eventHubsDataReceiver)
    roleDefinitionIdOrName: roles.eventHubsDataReceiver
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
  {
    name: guid(subscription().id, rgName, eventHubsNamespaceName, identityName, roles.eventHubsDataSender)
    roleDefinitionIdOrName: roles.eventHubsDataSender
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
]
var eventHubsDeveloperRoles = empty(principalId) ? [] : [
  {
    name: guid(subscription().id, rgName, eventHubsNamespaceName, principalId, roles.eventHubsDataReceiver)
    roleDefinitionIdOrName: roles.eventHubsDataReceiver
    principalId: principalId
    principalType: principalType
  }
  {
    name: guid(subscription().id, rgName, eventHubsNamespaceName, principalId, roles.eventHubsDataSender)
    roleDefinitionIdOrName: roles.eventHubsDataSender
    principalId: principalId
    principalType: principalType
  }
]

module eventHubs 'br/public:avm/res/event-hub/namespace:0.15.0' = {
  name: 'evhns-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: eventHubsNamespaceName
    location: location
    tags: allTags
    // Capture needs Standard or above.
    skuName: 'Standard'
    skuCapacity: eventHubsThroughputUnits
    isAutoInflateEnabled: eventHubsMaxThroughputUnits > 0
    maximumThroughputUnits: eventHubsMaxThroughputUnits
    zoneRedundant: zoneRedundant
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersion: '1.2'
    // Capture runs as the namespace's user-assigned identity.
    managedIdentities: {
      userAssignedResourceId: identity.outputs.resourceId
    }
    eventhubs: [for hub in eventHubDefinitions: {
      name: hub.name
      partitionCount: hub.partitionCount
      messageRetentionInDays: eventHubsRetentionDays
      // No SAS rules: local auth is disabled and every client uses Entra ID.
      authorizationRules: []
      // The declared groups, plus `<group>-local` ones for developer machines when asked for.
      consumergroups: map(createLocalConsumerGroups ? flatten(map(hub.consumerGroups, cg => [cg, '${cg}${localConsumerGroupSuffix}'])) : hub.consumerGroups, cg => { name: cg })
      captureDescription: hub.capture
        ? {
            enabled: true
            encoding: 'Avro'
            intervalInSeconds: captureIntervalSeconds
            sizeLimitInBytes: captureSizeLimitBytes
            skipEmptyArchives: true
            destination: {
              name: 'EventHubArchive.AzureBlockBlob'
              identity: {
                userAssignedResourceId: identity.outputs.resourceId
              }
              properties: {
                storageAccountResourceId: lake.outputs.resourceId
                blobContainer: captureContainerName
                archiveNameFormat: captureArchiveNameFormat
              }
            }
          }
        : null
    }]
    roleAssignments: concat(eventHubsAppRoles, eventHubsDeveloperRoles)
  }
}

// ── Cosmos DB ───────────────────────────────────────────────────────────────────────────────

var cosmosAppRoles = [
  {
    name: guid(subscription().id, rgName, cosmosAccountName, identityName, cosmosDataContributorRoleId)
    roleDefinitionId: cosmosDataContributorRoleId
    principalId: identity.outputs.principalId
  }
]
var cosmosDeveloperRoles = empty(principalId) ? [] : [
  {
    name: guid(subscription().id, rgName, cosmosAccountName, principalId, cosmosDataContributorRoleId)
    roleDefinitionId: cosmosDataContributorRoleId
    principalId: principalId
  }
]

module cosmos 'br/public:avm/res/document-db/database-account:0.20.1' = {
  name: 'cosmos-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: cosmosAccountName
    location: location
    tags: allTags
    disableLocalAuthentication: true
    disableKeyBasedMetadataWriteAccess: true
    defaultConsistencyLevel: 'Session'
    zoneRedundant: zoneRedundant
    capabilitiesToAdd: isProd ? [] : [
      'EnableServerless'
    ]
    backupPolicyType: 'Continuous'
    backupPolicyContinuousTier: isProd ? 'Continuous30Days' : 'Continuous7Days'
    networkRestrictions: {
      publicNetworkAccess: 'Enabled'
      networkAclBypass: 'None'
      ipRules: []
      virtualNetworkRules: []
    }
    sqlDatabases: [
      {
        name: cosmosDatabaseName
        // prod: autoscale throughput shared by the containers; dev: serverless (no throughput).
        autoscaleSettingsMaxThroughput: isProd ? cosmosAutoscaleMaxThroughput : null
        containers: [for c in cosmosContainers: {
          name: c.name
          paths: [
            c.partitionKey
          ]
          kind: 'Hash'
          defaultTtl: c.?defaultTtl
        }]
      }
    ]
    // Data-plane RBAC scoped to the account.
    sqlRoleAssignments: concat(cosmosAppRoles, cosmosDeveloperRoles)
  }
}

// ── Function app (Flex Consumption, Node 22) ────────────────────────────────────────────────

module plan 'br/public:avm/res/web/serverfarm:0.7.0' = {
  name: 'plan-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: planName
    location: location
    tags: allTags
    skuName: 'FC1'
    kind: 'functionapp'
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

// The app settings. Keys are the platform's identity-based conventions plus every `app`
// setting of functions/config.ts SETTINGS (tunables carry the code's defaults). Flex
// Consumption takes the runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and
// FUNCTIONS_EXTENSION_VERSION must not be set here.
var functionAppSettings = {
  // Host storage by identity: Durable Functions task hub, Event Hubs checkpoints, timers.
  AzureWebJobsStorage__accountName: hostStorage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  DurableTaskHubName: durableTaskHubName
  // DefaultAzureCredential in the code picks the user-assigned identity by this.
  AZURE_CLIENT_ID: identity.outputs.clientId
  // Not a credential: with local auth disabled, ingestion needs the Entra token named below.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  // Event Hubs triggers and publishers.
  EventHubConnection__fullyQualifiedNamespace: eventHubsFqdn
  EventHubConnection__credential: 'managedidentity'
  EventHubConnection__clientId: identity.outputs.clientId
  TelemetryConsumerGroup: 'ingestion'
  ProjectorConsumerGroup: 'projector'
  // Cosmos DB: the SDK (aadCredentials) and the bindings.
  CosmosConnection__accountEndpoint: cosmos.outputs.endpoint
  CosmosConnection__credential: 'managedidentity'
  CosmosConnection__clientId: identity.outputs.clientId
  CosmosDatabaseName: cosmosDatabaseName
  // The lake: dead letters over the blob endpoint, the Capture archive over dfs.
  DeadLetterStorage__blobServiceUri: lakeBlobEndpoint
  ArchiveLake__dfsServiceUri: lakeDfsEndpoint
  ArchiveLakeFileSystem: captureContainerName
  // Tunables, at the code's defaults.
  IngestionBreakerFailureThreshold: '5'
  IngestionBreakerOpenMs: '30000'
  IngestionWriteAttempts: '4'
  HealthCheckTimeoutMs: '2000'
  SagaMaxInFlight: '1000'
  PickupSlaMinutes: '30'
  DeliverySlaMinutes: '120'
  AssignmentSlaMinutes: '10'
  AssignmentRetrySeconds: '30'
  SagaStepAttempts: '5'
  SagaStepFirstRetryMs: '2000'
  DroneCruiseSpeedMps: '15'
  DeliveryHandlingSeconds: '60'
  DroneMaxPickupDistanceKm: '25'
  AgentParallelism: '8'
  SupervisorSchedule: '0 */5 * * * *'
  SupervisorGraceMinutes: '5'
  StatusViewTtlDays: '30'
  ProjectorWriteAttempts: '4'
  RebuildMaxRangeDays: '31'
}

var appSettingsConfig = {
  name: 'appsettings'
  // Bicep owns the settings: one removed here is removed from the app.
  retainCurrentAppSettings: false
  properties: functionAppSettings
}

// App Service Authentication (Easy Auth) with Entra ID. Unauthenticated requests go through
// to the app, which answers 401 itself, so GET /api/health stays anonymous and the API's
// problem+json errors stay the app's. Tokens for the API (audience api://<clientId>) are
// validated here; the app reads the caller from x-ms-client-principal.
var authSettings = {
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${authClientId}'
            authClientId
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

module functionApp 'br/public:avm/res/web/site:0.24.0' = {
  name: 'func-${resourceToken}'
  scope: resourceGroup(rgName)
  // The app's identity must hold its data-plane roles before the host starts.
  dependsOn: [
    lake
    eventHubs
  ]
  params: {
    name: functionAppName
    location: location
    tags: union(allTags, {
      'azd-service-name': 'api'
    })
    kind: 'functionapp,linux'
    serverFarmResourceId: plan.outputs.resourceId
    httpsOnly: true
    clientAffinityEnabled: false
    managedIdentities: {
      userAssignedResourceIds: [
        identity.outputs.resourceId
      ]
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${hostStorage.outputs.name}.blob.${storageSuffix}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.outputs.resourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: functionMaximumInstanceCount
        instanceMemoryMB: functionInstanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    // Deployments go through Entra ID (azd, az functionapp deploy), never publishing passwords.
    basicPublishingCredentialsPolicies: [
      {
        name: 'scm'
        allow: false
      }
      {
        name: 'ftp'
        allow: false
      }
    ]
    configs: empty(authClientId) ? [appSettingsConfig] : [appSettingsConfig, authSettings]
  }
}

// ── API Management (prod, optional) ─────────────────────────────────────────────────────────

var deployApiManagement = isProd && enableApiManagement
var rateLimitPolicyTemplate = loadTextContent('policies/rate-limit-by-key.xml')
var rateLimitPolicy = replace(replace(rateLimitPolicyTemplate, '__CALLS__', string(apiRateLimitCalls)), '__RENEWAL_PERIOD__', string(apiRateLimitPeriodSeconds))

module apiManagement 'br/public:avm/res/api-management/service:0.14.4' = if (deployApiManagement) {
  name: 'apim-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: apiManagementName
    location: location
    tags: allTags
    sku: apiManagementSku
    skuCapacity: 1
    publisherEmail: apiManagementPublisherEmail
    publisherName: apiManagementPublisherName
    apis: [
      {
        name: 'deliveries'
        displayName: 'Fabrikam Drone Delivery API'
        path: 'api'
        protocols: [
          'https'
        ]
        serviceUrl: 'https://${functionApp.outputs.defaultHostname}/api'
        // Callers authenticate with Entra ID tokens, validated by App Service Authentication.
        subscriptionRequired: false
        operations: [
          {
            name: 'get'
            displayName: 'GET'
            method: 'GET'
            urlTemplate: '/*'
          }
          {
            name: 'post'
            displayName: 'POST'
            method: 'POST'
            urlTemplate: '/*'
          }
          {
            name: 'delete'
            displayName: 'DELETE'
            method: 'DELETE'
            urlTemplate: '/*'
          }
        ]
        policies: [
          {
            format: 'xml'
            value: rateLimitPolicy
          }
        ]
      }
    ]
  }
}

// ── Outputs (azd writes them into .azure/<env>/.env; infra/hooks/postprovision.mjs reads them) ─

@description('Tenant the resources live in.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Region of the deployment.')
output AZURE_LOCATION string = location

@description('The resource group.')
output AZURE_RESOURCE_GROUP string = rg.outputs.name

@description('Deployment profile (dev or prod).')
output DEPLOYMENT_PROFILE string = profile

@description('The function app azd deploys the api service to.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Base URL of the HTTP API on the function app.')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostname}'

@description('Base URL callers use: API Management when deployed, else the function app.')
output API_BASE_URL string = deployApiManagement ? 'https://${apiManagementName}.azure-api.net' : 'https://${functionApp.outputs.defaultHostname}'

@description('API Management instance name, empty when not deployed.')
output API_MANAGEMENT_NAME string = deployApiManagement ? apiManagementName : ''

@description('Client id of the app\'s user-assigned managed identity.')
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Name of the app\'s user-assigned managed identity.')
output AZURE_MANAGED_IDENTITY_NAME string = identity.outputs.name

@description('Event Hubs namespace name.')
output EVENTHUBS_NAMESPACE string = eventHubs.outputs.name

@description('Event Hubs namespace host name (EventHubConnection__fullyQualifiedNamespace).')
output EVENTHUBS_FULLY_QUALIFIED_NAMESPACE string = eventHubsFqdn

@description('Suffix of the developer consumer groups; empty when none were created.')
output EVENTHUBS_LOCAL_CONSUMER_GROUP_SUFFIX string = createLocalConsumerGroups ? localConsumerGroupSuffix : ''

@description('Cosmos DB account name.')
output COSMOS_ACCOUNT_NAME string = cosmos.outputs.name

@description('Cosmos DB endpoint (CosmosConnection__accountEndpoint).')
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint

@description('Cosmos DB database name.')
output COSMOS_DATABASE_NAME string = cosmosDatabaseName

@description('Host storage account (AzureWebJobsStorage).')
output HOST_STORAGE_ACCOUNT_NAME string = hostStorage.outputs.name

@description('Data Lake account: Capture archive and dead letters.')
output LAKE_STORAGE_ACCOUNT_NAME string = lake.outputs.name

@description('Blob endpoint of the lake (DeadLetterStorage__blobServiceUri).')
output LAKE_BLOB_ENDPOINT string = lakeBlobEndpoint

@description('Data Lake endpoint of the lake (ArchiveLake__dfsServiceUri).')
output LAKE_DFS_ENDPOINT string = lakeDfsEndpoint

@description('File system Capture writes to.')
output CAPTURE_FILE_SYSTEM string = captureContainerName

@description('Durable Functions task hub of the deployed app.')
output DURABLE_TASK_HUB_NAME string = durableTaskHubName

@description('Application Insights resource name.')
output APPLICATIONINSIGHTS_NAME string = appInsights.outputs.name

@description('Log Analytics workspace name.')
output LOG_ANALYTICS_WORKSPACE_NAME string = logAnalytics.outputs.name

@description('Application id URI the API expects as token audience; empty until authClientId is set.')
output AUTH_AUDIENCE string = empty(authClientId) ? '' : 'api://${authClientId}'

@description('App roles the Entra app registration must define (see infra/README.md).')
output AUTH_APP_ROLES string = 'Deliveries.Admin: sees and changes every delivery; Deliveries.Reader: reads every delivery and drone'
