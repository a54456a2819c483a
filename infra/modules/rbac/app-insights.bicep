// One role assignment on the Application Insights component: rows of rbac.bicep's table with scope kind appInsights.

@description('Required. The Application Insights component the role applies to.')
param appInsightsName string

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

resource component 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(component.id, principalId, roleDefinitionGuid)
  scope: component
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
