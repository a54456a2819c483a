// One role assignment on one storage account: rows of rbac.bicep's table with scope kind storageAccount.

@description('Required. The storage account the role applies to.')
param storageAccountName string

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

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, principalId, roleDefinitionGuid)
  scope: account
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
