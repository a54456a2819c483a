// One role assignment on one event hub (not the namespace): rows of rbac.bicep's table with scope kind eventHub.

@description('Required. Event Hubs namespace holding the hub.')
param namespaceName string

@description('Required. The event hub the role applies to.')
param eventHubName string

@description('Required. Object id of the principal receiving the role.')
param principalId string

@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
@description('Required. Principal type of principalId.')
param principalType string

@description('Required. Role definition GUID (from rbac.bicep\'s built-in role map).')
param roleDefinitionGuid string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: namespaceName

  resource hub 'eventhubs' existing = {
    name: eventHubName
  }
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::hub.id, principalId, roleDefinitionGuid)
  scope: namespace::hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionGuid)
    principalId: principalId
    principalType: principalType
  }
}

@description('Name of the role assignment.')
output name string = assignment.name

@description('Resource id of the role assignment.')
output resourceId string = assignment.id
