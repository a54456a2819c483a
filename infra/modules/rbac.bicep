// Every role assignment of the deployment, from one table: infra/generated/role-assignments.json
// (`npm run gen:infra` writes it from tools/infra/access.ts). Each row is { principal, role,
// scope, profiles }; rows are filtered by profile (deployer rows are dev only, and only with a
// deployer principal) and deployed by the module of their scope kind, so nothing is granted that
// is not in the table. Roles are named as in the Azure Verified Modules' built-in role maps; the
// GUIDs live only in the maps below.

@allowed([
  'dev'
  'prod'
])
@description('Required. Deployment profile: selects the table rows whose profiles include it.')
param profile string

@description('Required. Principal (object) id of the function app\'s managed identity.')
param appPrincipalId string

@description('Required. Principal (object) id of Event Hubs Capture\'s managed identity.')
param capturePrincipalId string

@description('Optional. Object id of the person or pipeline running the deployment; gets the deployer rows in dev only.')
param deployerPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
@description('Optional. Principal type of deployerPrincipalId.')
param deployerPrincipalType string = 'User'

@description('Required. Event Hubs namespace of the hubs the table names.')
param eventHubsNamespaceName string

@description('Required. Host storage account (table account "host").')
param hostStorageName string

@description('Required. Data Lake account (table account "lake").')
param lakeStorageName string

@description('Required. Application Insights component.')
param appInsightsName string

@description('Required. Cosmos DB account of the databases the table names.')
param cosmosAccountName string

// Subset of the AVM modules' builtInRoleNames maps (event-hub/namespace, storage/storage-account,
// insights/component): the same names, the same ids.
var builtInRoleNames = {
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975'
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb'
}

// Cosmos DB's built-in data-plane roles (AVM document-db/database-account sqlRoleDefinitions).
var cosmosBuiltInRoleNames = {
  'Cosmos DB Built-in Data Reader': '00000000-0000-0000-0000-000000000001'
  'Cosmos DB Built-in Data Contributor': '00000000-0000-0000-0000-000000000002'
}

var table = loadJsonContent('../generated/role-assignments.json').assignments
var grantDeployer = profile == 'dev' && !empty(deployerPrincipalId)
var rows = filter(table, r => contains(r.profiles, profile) && (r.principal != 'deployer' || grantDeployer))

var principalIds = {
  app: appPrincipalId
  capture: capturePrincipalId
  deployer: deployerPrincipalId
}
var principalTypes = {
  app: 'ServicePrincipal'
  capture: 'ServicePrincipal'
  deployer: deployerPrincipalType
}
var storageAccounts = {
  host: hostStorageName
  lake: lakeStorageName
}

var hubRows = filter(rows, r => r.scope.kind == 'eventHub')
var accountRows = filter(rows, r => r.scope.kind == 'storageAccount')
var containerRows = filter(rows, r => r.scope.kind == 'blobContainer')
var insightsRows = filter(rows, r => r.scope.kind == 'appInsights')
var cosmosRows = filter(rows, r => r.scope.kind == 'cosmosDatabase')

module hubAssignments 'rbac/event-hub.bicep' = [for r in hubRows: {
  name: 'rbac-hub-${uniqueString(r.principal, r.role, r.scope.name)}'
  params: {
    namespaceName: eventHubsNamespaceName
    eventHubName: r.scope.name
    principalId: principalIds[r.principal]
    principalType: principalTypes[r.principal]
    roleDefinitionGuid: builtInRoleNames[r.role]
  }
}]

module accountAssignments 'rbac/storage-account.bicep' = [for r in accountRows: {
  name: 'rbac-st-${uniqueString(r.principal, r.role, r.scope.account)}'
  params: {
    storageAccountName: storageAccounts[r.scope.account]
    principalId: principalIds[r.principal]
    principalType: principalTypes[r.principal]
    roleDefinitionGuid: builtInRoleNames[r.role]
  }
}]

module containerAssignments 'rbac/blob-container.bicep' = [for r in containerRows: {
  name: 'rbac-blob-${uniqueString(r.principal, r.role, r.scope.account, r.scope.name)}'
  params: {
    storageAccountName: storageAccounts[r.scope.account]
    containerName: r.scope.name
    principalId: principalIds[r.principal]
    principalType: principalTypes[r.principal]
    roleDefinitionGuid: builtInRoleNames[r.role]
  }
}]

module insightsAssignments 'rbac/app-insights.bicep' = [for r in insightsRows: {
  name: 'rbac-appi-${uniqueString(r.principal, r.role)}'
  params: {
    appInsightsName: appInsightsName
    principalId: principalIds[r.principal]
    principalType: principalTypes[r.principal]
    roleDefinitionGuid: builtInRoleNames[r.role]
  }
}]

module cosmosAssignments 'rbac/cosmos-database.bicep' = [for r in cosmosRows: {
  name: 'rbac-cosmos-${uniqueString(r.principal, r.role, r.scope.name)}'
  params: {
    accountName: cosmosAccountName
    databaseName: r.scope.name
    principalId: principalIds[r.principal]
    roleDefinitionGuid: cosmosBuiltInRoleNames[r.role]
  }
}]

var hubIds = [for (r, i) in hubRows: hubAssignments[i].outputs.resourceId]
var accountIds = [for (r, i) in accountRows: accountAssignments[i].outputs.resourceId]
var containerIds = [for (r, i) in containerRows: containerAssignments[i].outputs.resourceId]
var insightsIds = [for (r, i) in insightsRows: insightsAssignments[i].outputs.resourceId]
var cosmosIds = [for (r, i) in cosmosRows: cosmosAssignments[i].outputs.resourceId]

@description('How many rows of the table this deployment granted.')
output assignmentCount int = length(rows)

@description('Names of the role assignments (deployments of the per-scope modules).')
output roleAssignmentNames array = map(rows, r => '${r.principal}: ${r.role}')

@description('Resource ids of every role assignment granted.')
output roleAssignmentResourceIds array = concat(hubIds, accountIds, containerIds, insightsIds, cosmosIds)
