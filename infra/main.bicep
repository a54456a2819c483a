// Fabrikam Drone Delivery Pipeline: everything the function app needs in Azure, composed from
// pinned Azure Verified Modules in five modules (monitoring, network, data, messaging, app) and
// one role table (modules/rbac.bicep). Subscription scope so one deployment (azd up, or
// az deployment sub create) also creates the resource group.
//
// Nothing the code declares is copied here: hubs, containers, setting names and defaults and the
// role table come from infra/generated/*.json, which `npm run gen:infra` writes from
// functions/resources.ts, functions/config.ts and tools/infra/access.ts (test/infra fails when
// they are stale). Every data-plane call uses a managed identity: no keys, no SAS, no
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

@description('Optional. Object id of the person or pipeline running the deployment (azd sets AZURE_PRINCIPAL_ID). dev only: it gets the deployer rows of the role table (send/receive per hub, dead letters, reading the archive, Cosmos DB data in the database), so local runs against the deployed resources work with `az login`. Ignored in prod.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Optional. Principal type of principalId.')
param principalType string = 'User'

@minLength(36)
@maxLength(36)
@description('Required. Application (client) id of the Entra ID app registration that protects the HTTP API, with app roles Deliveries.Admin and Deliveries.Reader. azd creates it in the preprovision hook (infra/hooks/preprovision.mjs) and sets AUTH_CLIENT_ID; without one the deployment stops here: no deployment without sign-in.')
param authClientId string

@description('Optional. Tenant of the app registration. Default: the deployment\'s tenant.')
param authTenantId string = tenant().tenantId

@description('Optional. Partitions by hub name, overriding the counts functions/resources.ts declares per profile (fixed after creation on Standard).')
param eventHubPartitionCounts object = {}

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

@minValue(1)
@maxValue(146000)
@description('Optional. prod only: days every Capture file stays immutable (time-based retention policy on the capture container). Default: 365.')
param captureImmutabilityDays int = 365

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

@description('Optional. Deploy the operations console (console/) as a Static Web App linked to the function app.')
param enableConsole bool = true

@description('Optional. Region of the console\'s Static Web App (the service runs in westus2, centralus, eastus2, westeurope and eastasia).')
param consoleLocation string = 'westeurope'

@description('Optional. Extra tags for every resource.')
param tags object = {}

// ── Names ───────────────────────────────────────────────────────────────────────────────────

var isProd = profile == 'prod'
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var rgName = empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
var allTags = union(tags, {
  'azd-env-name': environmentName
  profile: profile
  workload: 'fabrikam-drone-delivery'
})

var appIdentityName = 'id-${resourceToken}'
var captureIdentityName = 'id-capture-${resourceToken}'
var hostStorageName = 'st${resourceToken}'
var lakeStorageName = 'dls${resourceToken}'
var eventHubsNamespaceName = 'evhns-${resourceToken}'
var cosmosAccountName = 'cosmos-${resourceToken}'
var functionAppName = 'func-${resourceToken}'
var apiManagementName = 'apim-${resourceToken}'
// Flex Consumption pulls the app package from this container, by identity.
var deploymentContainerName = 'deployments'
var localConsumerGroupSuffix = '-local'
var deployApiManagement = isProd && enableApiManagement
var resources = loadJsonContent('generated/resources.json')
var storageSuffix = environment().suffixes.storage

// ── Resource group and identities ───────────────────────────────────────────────────────────

module rg 'br/public:avm/res/resources/resource-group:0.4.4' = {
  name: 'rg-${resourceToken}'
  params: {
    name: rgName
    location: location
    tags: allTags
  }
}

// The app's identity: every data-plane call of the app and its host.
module appIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'id-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: appIdentityName
    location: location
    tags: allTags
  }
}

// Capture's own identity: it writes the capture container and nothing else.
module captureIdentity 'br/public:avm/res/managed-identity/user-assigned-identity:0.6.0' = {
  name: 'id-capture-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    name: captureIdentityName
    location: location
    tags: allTags
  }
}

// ── Modules ─────────────────────────────────────────────────────────────────────────────────

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    location: location
    tags: allTags
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    logRetentionDays: logRetentionDays
  }
}

// prod: VNet integration for the app and private endpoints for every data service.
module network 'modules/network.bicep' = if (isProd) {
  name: 'network-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    location: location
    tags: allTags
    virtualNetworkName: 'vnet-${resourceToken}'
  }
}

module data 'modules/data.bicep' = {
  name: 'data-${resourceToken}'
  scope: resourceGroup(rgName)
  dependsOn: [
    rg
  ]
  params: {
    location: location
    tags: allTags
    profile: profile
    hostStorageName: hostStorageName
    lakeStorageName: lakeStorageName
    cosmosAccountName: cosmosAccountName
    eventHubsNamespaceName: eventHubsNamespaceName
    deploymentContainerName: deploymentContainerName
    zoneRedundant: zoneRedundant
    cosmosAutoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    captureImmutabilityDays: captureImmutabilityDays
    privateEndpointSubnetResourceId: isProd ? network.outputs.privateEndpointSubnetResourceId : ''
    privateDnsZoneResourceIds: isProd ? network.outputs.privateDnsZoneResourceIds : {}
  }
}

module messaging 'modules/messaging.bicep' = {
  name: 'messaging-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    location: location
    tags: allTags
    profile: profile
    namespaceName: eventHubsNamespaceName
    partitionCountOverrides: eventHubPartitionCounts
    retentionDays: eventHubsRetentionDays
    throughputUnits: eventHubsThroughputUnits
    maxThroughputUnits: eventHubsMaxThroughputUnits
    zoneRedundant: zoneRedundant
    createLocalConsumerGroups: createLocalConsumerGroups
    localConsumerGroupSuffix: localConsumerGroupSuffix
    captureIntervalSeconds: captureIntervalSeconds
    captureSizeLimitBytes: captureSizeLimitBytes
    captureIdentityResourceId: captureIdentity.outputs.resourceId
    lakeResourceId: data.outputs.resourceId
    privateEndpointSubnetResourceId: isProd ? network.outputs.privateEndpointSubnetResourceId : ''
    privateDnsZoneResourceId: isProd ? network.outputs.privateDnsZoneResourceIds.eventHubs : ''
  }
}

// Every role assignment of the deployment, from the generated table.
module rbac 'modules/rbac.bicep' = {
  name: 'rbac-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    profile: profile
    appPrincipalId: appIdentity.outputs.principalId
    capturePrincipalId: captureIdentity.outputs.principalId
    deployerPrincipalId: isProd ? '' : principalId
    deployerPrincipalType: principalType
    eventHubsNamespaceName: messaging.outputs.name
    hostStorageName: data.outputs.hostStorageName
    lakeStorageName: data.outputs.name
    appInsightsName: monitoring.outputs.name
    cosmosAccountName: data.outputs.cosmosName
  }
}

module app 'modules/app.bicep' = {
  name: 'app-${resourceToken}'
  scope: resourceGroup(rgName)
  // The app's identity must hold its data-plane roles before the host starts.
  dependsOn: [
    rbac
  ]
  params: {
    location: location
    tags: allTags
    planName: 'plan-${resourceToken}'
    functionAppName: functionAppName
    identityResourceId: appIdentity.outputs.resourceId
    identityClientId: appIdentity.outputs.clientId
    hostStorageName: data.outputs.hostStorageName
    deploymentContainerName: deploymentContainerName
    eventHubsFullyQualifiedNamespace: messaging.outputs.fullyQualifiedNamespace
    cosmosEndpoint: data.outputs.cosmosEndpoint
    lakeDfsEndpoint: 'https://${lakeStorageName}.dfs.${storageSuffix}'
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    durableTaskHubName: durableTaskHubName
    authClientId: authClientId
    authTenantId: authTenantId
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    zoneRedundant: zoneRedundant
    appSubnetResourceId: isProd ? network.outputs.appSubnetResourceId : ''
    deployApiManagement: deployApiManagement
    apiManagementName: apiManagementName
    apiManagementSku: apiManagementSku
    apiManagementPublisherEmail: apiManagementPublisherEmail
    apiManagementPublisherName: apiManagementPublisherName
    apiRateLimitCalls: apiRateLimitCalls
    apiRateLimitPeriodSeconds: apiRateLimitPeriodSeconds
  }
}

module console 'modules/console.bicep' = if (enableConsole) {
  name: 'console-${resourceToken}'
  scope: resourceGroup(rgName)
  params: {
    name: 'stapp-${resourceToken}'
    location: consoleLocation
    tags: allTags
    backendResourceId: app.outputs.resourceId
    backendLocation: location
    authClientId: authClientId
    authTenantId: authTenantId
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
output AZURE_FUNCTION_APP_NAME string = app.outputs.name

@description('Base URL of the HTTP API on the function app (only API Management may call it when deployed).')
output FUNCTION_APP_URL string = 'https://${app.outputs.defaultHostname}'

@description('Base URL callers use: API Management when deployed, else the function app.')
output API_BASE_URL string = app.outputs.apiBaseUrl

@description('API Management instance name, empty when not deployed.')
output API_MANAGEMENT_NAME string = deployApiManagement ? apiManagementName : ''

@description('Client id of the app\'s user-assigned managed identity.')
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = appIdentity.outputs.clientId

@description('Name of the app\'s user-assigned managed identity.')
output AZURE_MANAGED_IDENTITY_NAME string = appIdentity.outputs.name

@description('Name of Event Hubs Capture\'s managed identity.')
output CAPTURE_IDENTITY_NAME string = captureIdentity.outputs.name

@description('Event Hubs namespace name.')
output EVENTHUBS_NAMESPACE string = messaging.outputs.name

@description('Event Hubs namespace host name (EventHubConnection__fullyQualifiedNamespace).')
output EVENTHUBS_FULLY_QUALIFIED_NAMESPACE string = messaging.outputs.fullyQualifiedNamespace

@description('Suffix of the developer consumer groups; empty when none were created.')
output EVENTHUBS_LOCAL_CONSUMER_GROUP_SUFFIX string = createLocalConsumerGroups ? localConsumerGroupSuffix : ''

@description('Cosmos DB account name.')
output COSMOS_ACCOUNT_NAME string = data.outputs.cosmosName

@description('Cosmos DB endpoint (CosmosConnection__accountEndpoint).')
output COSMOS_ENDPOINT string = data.outputs.cosmosEndpoint

@description('Cosmos DB database name.')
output COSMOS_DATABASE_NAME string = data.outputs.cosmosDatabaseName

@description('Host storage account (AzureWebJobsStorage; also the dead letters).')
output HOST_STORAGE_ACCOUNT_NAME string = data.outputs.hostStorageName

@description('Blob endpoint holding the dead-letter container (DeadLetterStorage__blobServiceUri).')
output DEADLETTER_BLOB_ENDPOINT string = 'https://${hostStorageName}.blob.${storageSuffix}'

@description('Data Lake account: the Capture archive.')
output LAKE_STORAGE_ACCOUNT_NAME string = data.outputs.name

@description('Data Lake endpoint of the lake (ArchiveLake__dfsServiceUri).')
output LAKE_DFS_ENDPOINT string = 'https://${lakeStorageName}.dfs.${storageSuffix}'

@description('File system Capture writes to.')
output CAPTURE_FILE_SYSTEM string = resources.captureFileSystem

@description('Durable Functions task hub of the deployed app.')
output DURABLE_TASK_HUB_NAME string = durableTaskHubName

@description('Application Insights resource name.')
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.name

@description('Log Analytics workspace name.')
output LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.logAnalyticsName

@description('Application id URI the API expects as token audience.')
output AUTH_AUDIENCE string = 'api://${authClientId}'

@description('How many role assignments the role table granted in this profile.')
output ROLE_ASSIGNMENT_COUNT int = rbac.outputs.assignmentCount

@description('The operations console (empty when enableConsole is false).')
output CONSOLE_URL string = enableConsole ? 'https://${console!.outputs.defaultHostname}/' : ''
