// Data: the host storage account (AzureWebJobsStorage: Durable Functions task hub, checkpoints,
// timers, the app package, dead letters), the Data Lake account (the Capture archive, read-only
// to the app; in prod under a time-based immutability policy) and Cosmos DB with the database
// and containers of functions/resources.ts. Names come from infra/generated/resources.json.
// No role assignments here: every one is in rbac.bicep's table.

@description('Required. Azure region.')
param location string

@description('Required. Tags for every resource.')
param tags object

@allowed([
  'dev'
  'prod'
])
@description('Required. Deployment profile.')
param profile string

@description('Required. Host storage account name.')
param hostStorageName string

@description('Required. Data Lake account name.')
param lakeStorageName string

@description('Required. Cosmos DB account name.')
param cosmosAccountName string

@description('Required. Container Flex Consumption pulls the app package from.')
param deploymentContainerName string

@description('Required. Zone redundancy (ZRS storage, zone-redundant Cosmos DB).')
param zoneRedundant bool

@minValue(1000)
@maxValue(1000000)
@description('Required. prod: autoscale maximum RU/s shared by the database\'s containers. Ignored in dev (serverless).')
param cosmosAutoscaleMaxThroughput int

@minValue(1)
@maxValue(146000)
@description('Required. prod: days every Capture file stays immutable (time-based retention on the capture container).')
param captureImmutabilityDays int

@description('Required. Event Hubs namespace whose Capture writes the lake (its resource-instance rule in the lake firewall).')
param eventHubsNamespaceName string

@description('Optional. Subnet of the private endpoints; empty: no private endpoints, public network access on (dev).')
param privateEndpointSubnetResourceId string = ''

@description('Optional. Private DNS zone ids by service key (blob, queue, table, dfs, cosmosSql) when privateEndpointSubnetResourceId is set.')
param privateDnsZoneResourceIds object = {}

var resources = loadJsonContent('../generated/resources.json')
var isProd = profile == 'prod'
var isolated = !empty(privateEndpointSubnetResourceId)
var publicNetworkAccess = isolated ? 'Disabled' : 'Enabled'
var storageSku = zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
var networkAcls = {
  defaultAction: isolated ? 'Deny' : 'Allow'
  bypass: 'None'
}

func endpoint(subnet string, service string, zone string) object => {
  service: service
  subnetResourceId: subnet
  privateDnsZoneGroup: {
    privateDnsZoneGroupConfigs: [
      {
        privateDnsZoneResourceId: zone
      }
    ]
  }
}

module hostStorage 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'st-${uniqueString(hostStorageName)}'
  params: {
    name: hostStorageName
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: storageSku
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: networkAcls
    blobServices: {
      containers: [for c in concat([deploymentContainerName], resources.hostContainers): {
        name: c
        publicAccess: 'None'
      }]
    }
    // The Functions host uses blobs, queues and tables of AzureWebJobsStorage.
    privateEndpoints: isolated
      ? [
          endpoint(privateEndpointSubnetResourceId, 'blob', privateDnsZoneResourceIds.blob)
          endpoint(privateEndpointSubnetResourceId, 'queue', privateDnsZoneResourceIds.queue)
          endpoint(privateEndpointSubnetResourceId, 'table', privateDnsZoneResourceIds.table)
        ]
      : []
  }
}

// prod: Capture files cannot be changed or deleted for captureImmutabilityDays (WORM).
var captureImmutability = isProd
  ? {
      immutabilityPolicyProperties: {
        immutabilityPeriodSinceCreationInDays: captureImmutabilityDays
        allowProtectedAppendWrites: false
      }
    }
  : {}

module lake 'br/public:avm/res/storage/storage-account:0.33.0' = {
  name: 'dls-${uniqueString(lakeStorageName)}'
  params: {
    name: lakeStorageName
    location: location
    tags: tags
    kind: 'StorageV2'
    skuName: storageSku
    enableHierarchicalNamespace: true
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    // Event Hubs Capture cannot write over a private endpoint, and with publicNetworkAccess
    // 'Disabled' the firewall honours no exception at all. So in prod the lake's public endpoint
    // denies every network and admits only this deployment's Event Hubs namespace, by resource
    // instance rule, and trusted services; the app and people reach it by private endpoint.
    publicNetworkAccess: 'Enabled'
    networkAcls: isolated
      ? {
          defaultAction: 'Deny'
          bypass: 'AzureServices'
          ipRules: []
          virtualNetworkRules: []
          resourceAccessRules: [
            {
              tenantId: tenant().tenantId
              resourceId: resourceId('Microsoft.EventHub/namespaces', eventHubsNamespaceName)
            }
          ]
        }
      : networkAcls
    blobServices: {
      containers: [for c in resources.lakeFileSystems: union(
        {
          name: c
          publicAccess: 'None'
        },
        c == resources.captureFileSystem ? captureImmutability : {}
      )]
    }
    privateEndpoints: isolated
      ? [
          endpoint(privateEndpointSubnetResourceId, 'blob', privateDnsZoneResourceIds.blob)
          endpoint(privateEndpointSubnetResourceId, 'dfs', privateDnsZoneResourceIds.dfs)
        ]
      : []
  }
}

module cosmos 'br/public:avm/res/document-db/database-account:0.20.1' = {
  name: 'cosmos-${uniqueString(cosmosAccountName)}'
  params: {
    name: cosmosAccountName
    location: location
    tags: tags
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
      publicNetworkAccess: publicNetworkAccess
      networkAclBypass: 'None'
      ipRules: []
      virtualNetworkRules: []
    }
    sqlDatabases: [
      {
        name: resources.cosmosDatabase
        // prod: autoscale throughput shared by the containers; dev: serverless (no throughput).
        autoscaleSettingsMaxThroughput: isProd ? cosmosAutoscaleMaxThroughput : null
        containers: [for c in resources.cosmosContainers: {
          name: c.name
          paths: [
            c.partitionKey
          ]
          kind: 'Hash'
          defaultTtl: c.?defaultTtl
        }]
      }
    ]
    privateEndpoints: isolated ? [endpoint(privateEndpointSubnetResourceId, 'Sql', privateDnsZoneResourceIds.cosmosSql)] : []
  }
}

@description('Data Lake account name.')
output name string = lake.outputs.name

@description('Data Lake account resource id.')
output resourceId string = lake.outputs.resourceId

@description('Host storage account name.')
output hostStorageName string = hostStorage.outputs.name

@description('Host storage account resource id.')
output hostStorageResourceId string = hostStorage.outputs.resourceId

@description('Cosmos DB account name.')
output cosmosName string = cosmos.outputs.name

@description('Cosmos DB account resource id.')
output cosmosResourceId string = cosmos.outputs.resourceId

@description('Cosmos DB endpoint.')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('Cosmos DB database name.')
output cosmosDatabaseName string = resources.cosmosDatabase
