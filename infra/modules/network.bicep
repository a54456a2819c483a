// The prod network profile: one virtual network with a subnet delegated to the Flex Consumption
// app (outbound VNet integration) and one for private endpoints, and the private DNS zones the
// endpoints register in, linked to the network. main.bicep deploys it in prod only.

@description('Required. Azure region.')
param location string

@description('Required. Tags for every resource.')
param tags object

@description('Required. Virtual network name.')
param virtualNetworkName string

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Optional. Subnet of the function app\'s VNet integration (delegated to Microsoft.App/environments, as Flex Consumption requires).')
param appSubnetPrefix string = '10.40.0.0/24'

@description('Optional. Subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.40.1.0/24'

var storageSuffix = environment().suffixes.storage
// One zone per private-link service the data and messaging modules connect to.
var privateDnsZones = {
  blob: 'privatelink.blob.${storageSuffix}'
  queue: 'privatelink.queue.${storageSuffix}'
  table: 'privatelink.table.${storageSuffix}'
  dfs: 'privatelink.dfs.${storageSuffix}'
  cosmosSql: 'privatelink.documents.azure.com'
  eventHubs: 'privatelink.servicebus.windows.net'
}

module vnet 'br/public:avm/res/network/virtual-network:0.7.0' = {
  name: 'vnet-${uniqueString(virtualNetworkName)}'
  params: {
    name: virtualNetworkName
    location: location
    tags: tags
    addressPrefixes: [
      addressPrefix
    ]
    subnets: [
      {
        name: 'app'
        addressPrefix: appSubnetPrefix
        delegation: 'Microsoft.App/environments'
      }
      {
        name: 'private-endpoints'
        addressPrefix: privateEndpointSubnetPrefix
      }
    ]
  }
}

var zoneNames = map(items(privateDnsZones), z => z.value)
// A zone's id from its name: the zones live in this resource group.
func zoneId(zoneName string) string => resourceId('Microsoft.Network/privateDnsZones', zoneName)

module zones 'br/public:avm/res/network/private-dns-zone:0.8.0' = [for zoneName in zoneNames: {
  name: 'pdns-${uniqueString(zoneName, virtualNetworkName)}'
  params: {
    name: zoneName
    tags: tags
    virtualNetworkLinks: [
      {
        virtualNetworkResourceId: vnet.outputs.resourceId
        registrationEnabled: false
      }
    ]
  }
}]

@description('Virtual network name.')
output name string = vnet.outputs.name

@description('Virtual network resource id.')
output resourceId string = vnet.outputs.resourceId

@description('Subnet of the function app\'s VNet integration.')
output appSubnetResourceId string = vnet.outputs.subnetResourceIds[0]

@description('Subnet of the private endpoints.')
output privateEndpointSubnetResourceId string = vnet.outputs.subnetResourceIds[1]

@description('Private DNS zone resource ids by service key (blob, queue, table, dfs, cosmosSql, eventHubs).')
output privateDnsZoneResourceIds object = {
  blob: zoneId(privateDnsZones.blob)
  queue: zoneId(privateDnsZones.queue)
  table: zoneId(privateDnsZones.table)
  dfs: zoneId(privateDnsZones.dfs)
  cosmosSql: zoneId(privateDnsZones.cosmosSql)
  eventHubs: zoneId(privateDnsZones.eventHubs)
}

@description('How many private DNS zones are linked to the network (every one the endpoints need).')
output privateDnsZoneCount int = length(zoneNames)
