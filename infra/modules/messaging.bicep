// Messaging: the Event Hubs namespace with the hubs and consumer groups of functions/resources.ts
// (from infra/generated/resources.json), Capture of the hubs that declare it to the lake as Avro,
// running as Capture's own identity. Local auth off, no SAS rules; in prod a private endpoint and
// no public network access. No role assignments here: every one is in rbac.bicep's table.

@description('Required. Azure region.')
param location string

@description('Required. Tags for every resource.')
param tags object

@allowed([
  'dev'
  'prod'
])
@description('Required. Deployment profile: selects each hub\'s partition count from the generated declarations.')
param profile string

@description('Required. Event Hubs namespace name.')
param namespaceName string

@description('Optional. Partition counts by hub name, overriding the declared ones (fixed after creation on Standard).')
param partitionCountOverrides object = {}

@minValue(1)
@maxValue(7)
@description('Required. Days Event Hubs keeps events.')
param retentionDays int

@minValue(1)
@maxValue(20)
@description('Required. Throughput units.')
param throughputUnits int

@minValue(0)
@maxValue(20)
@description('Required. Upper bound of auto-inflate; 0 turns it off.')
param maxThroughputUnits int

@description('Required. Zone redundancy.')
param zoneRedundant bool

@description('Required. Also create a `<group><suffix>` consumer group beside each declared one.')
param createLocalConsumerGroups bool

@description('Required. Suffix of the developer consumer groups.')
param localConsumerGroupSuffix string

@minValue(60)
@maxValue(900)
@description('Required. Capture time window in seconds.')
param captureIntervalSeconds int

@minValue(10485760)
@maxValue(524288000)
@description('Required. Capture size window in bytes.')
param captureSizeLimitBytes int

@description('Required. Resource id of Capture\'s user-assigned identity (write access to the capture container only).')
param captureIdentityResourceId string

@description('Required. Resource id of the Data Lake account Capture writes to.')
param lakeResourceId string

@description('Optional. Subnet of the private endpoints; empty: public network access on (dev).')
param privateEndpointSubnetResourceId string = ''

@description('Optional. Private DNS zone id of privatelink.servicebus.windows.net when privateEndpointSubnetResourceId is set.')
param privateDnsZoneResourceId string = ''

var resources = loadJsonContent('../generated/resources.json')
var isolated = !empty(privateEndpointSubnetResourceId)
// Capture's path layout; functions/adapters/capture-format.ts parses exactly this.
var captureArchiveNameFormat = '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}'

module namespace 'br/public:avm/res/event-hub/namespace:0.15.0' = {
  name: 'evhns-${uniqueString(namespaceName)}'
  params: {
    name: namespaceName
    location: location
    tags: tags
    // Capture needs Standard or above.
    skuName: 'Standard'
    skuCapacity: throughputUnits
    isAutoInflateEnabled: maxThroughputUnits > 0
    maximumThroughputUnits: maxThroughputUnits
    zoneRedundant: zoneRedundant
    disableLocalAuth: true
    publicNetworkAccess: isolated ? 'Disabled' : 'Enabled'
    minimumTlsVersion: '1.2'
    managedIdentities: {
      userAssignedResourceIds: [
        captureIdentityResourceId
      ]
    }
    eventhubs: [for hub in resources.eventHubs: {
      name: hub.name
      partitionCount: partitionCountOverrides[?hub.name] ?? hub.partitionCount[profile]
      messageRetentionInDays: retentionDays
      // No SAS rules: local auth is disabled and every client uses Entra ID.
      authorizationRules: []
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
                userAssignedResourceId: captureIdentityResourceId
              }
              properties: {
                storageAccountResourceId: lakeResourceId
                blobContainer: resources.captureFileSystem
                archiveNameFormat: captureArchiveNameFormat
              }
            }
          }
        : null
    }]
    privateEndpoints: isolated
      ? [
          {
            service: 'namespace'
            subnetResourceId: privateEndpointSubnetResourceId
            privateDnsZoneGroup: {
              privateDnsZoneGroupConfigs: [
                {
                  privateDnsZoneResourceId: privateDnsZoneResourceId
                }
              ]
            }
          }
        ]
      : []
  }
}

@description('Event Hubs namespace name.')
output name string = namespace.outputs.name

@description('Event Hubs namespace resource id.')
output resourceId string = namespace.outputs.resourceId

@description('Namespace host name (EventHubConnection__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = '${namespace.outputs.name}.servicebus.windows.net'
