// One Cosmos DB data-plane role assignment scoped to one database (not the account): rows of
// rbac.bicep's table with scope kind cosmosDatabase.

@description('Required. The Cosmos DB account.')
param accountName string

@description('Required. The database the role applies to.')
param databaseName string

@description('Required. Object id of the principal receiving the role.')
param principalId string

@description('Required. Cosmos DB built-in data-plane role definition GUID (from rbac.bicep\'s role map).')
param roleDefinitionGuid string

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

var databaseScope = '${account.id}/dbs/${databaseName}'

resource assignment 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(databaseScope, principalId, roleDefinitionGuid)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${roleDefinitionGuid}'
    principalId: principalId
    scope: databaseScope
  }
}

@description('Name of the role assignment.')
output name string = assignment.name

@description('Resource id of the role assignment.')
output resourceId string = assignment.id
