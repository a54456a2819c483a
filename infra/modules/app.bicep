// The app: Flex Consumption plan and function app (Node 22), its settings (the code's own, from
// infra/generated/app-settings.json, plus the identity-based connections), App Service
// Authentication with Entra ID always on, VNet integration in prod, and API Management in front
// (prod, optional) with the function app then reachable only from API Management.

@description('Required. Azure region.')
param location string

@description('Required. Tags for every resource.')
param tags object

@description('Required. Flex Consumption plan name.')
param planName string

@description('Required. Function app name.')
param functionAppName string

@description('Required. Resource id of the app\'s user-assigned managed identity.')
param identityResourceId string

@description('Required. Client id of the app\'s user-assigned managed identity.')
param identityClientId string

@description('Required. Host storage account (AzureWebJobsStorage, the app package, dead letters).')
param hostStorageName string

@description('Required. Container Flex Consumption pulls the app package from.')
param deploymentContainerName string

@description('Required. Event Hubs namespace host name.')
param eventHubsFullyQualifiedNamespace string

@description('Required. Cosmos DB endpoint.')
param cosmosEndpoint string

@description('Required. Data Lake (dfs) endpoint of the Capture archive.')
param lakeDfsEndpoint string

@description('Required. Application Insights connection string (no credential: local auth is off).')
param appInsightsConnectionString string

@description('Required. Durable Functions task hub name.')
param durableTaskHubName string

@minLength(36)
@maxLength(36)
@description('Required. Application (client) id of the API\'s Entra ID app registration.')
param authClientId string

@description('Required. Tenant of the app registration.')
param authTenantId string

@allowed([
  512
  2048
  4096
])
@description('Required. Flex Consumption instance memory in MB.')
param instanceMemoryMB int

@minValue(40)
@maxValue(1000)
@description('Required. Flex Consumption maximum instance count.')
param maximumInstanceCount int

@description('Required. Zone redundancy of the plan.')
param zoneRedundant bool

@description('Optional. Subnet for outbound VNet integration (prod); empty: none.')
param appSubnetResourceId string = ''

@description('Optional. Deploy API Management in front of /api and admit only it to the function app.')
param deployApiManagement bool = false

@description('Optional. API Management instance name.')
param apiManagementName string = ''

@allowed([
  'BasicV2'
  'StandardV2'
])
@description('Optional. API Management tier.')
param apiManagementSku string = 'StandardV2'

@description('Optional. Publisher e-mail API Management requires.')
param apiManagementPublisherEmail string = 'drone-ops@fabrikam.example'

@description('Optional. Publisher name API Management requires.')
param apiManagementPublisherName string = 'Fabrikam Drone Delivery'

@minValue(1)
@description('Optional. Calls per caller and renewal period through API Management.')
param apiRateLimitCalls int = 120

@minValue(1)
@description('Optional. Renewal period of the rate limit, in seconds.')
param apiRateLimitPeriodSeconds int = 60

var storageSuffix = environment().suffixes.storage
var generatedSettings = loadJsonContent('../generated/app-settings.json').settings

// The settings the code reads with fixed values come from the generated file; these name the
// deployed resources and the identity. Flex Consumption takes the runtime from
// functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION are not set.
var deploymentSettings = {
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  DurableTaskHubName: durableTaskHubName
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  EventHubConnection__fullyQualifiedNamespace: eventHubsFullyQualifiedNamespace
  EventHubConnection__credential: 'managedidentity'
  EventHubConnection__clientId: identityClientId
  CosmosConnection__accountEndpoint: cosmosEndpoint
  CosmosConnection__credential: 'managedidentity'
  CosmosConnection__clientId: identityClientId
  DeadLetterStorage__blobServiceUri: 'https://${hostStorageName}.blob.${storageSuffix}'
  ArchiveLake__dfsServiceUri: lakeDfsEndpoint
}
var functionAppSettings = union(generatedSettings, deploymentSettings)

// App Service Authentication (Easy Auth) with Entra ID, always on: nothing but GET /api/health
// reaches the app without a valid token (audience api://<clientId> or the client id), and the
// app believes x-ms-client-principal only because this is on (WEBSITE_AUTH_ENABLED).
var authSettings = {
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/api/health'
      ]
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

// With API Management in front, only it may call the app (the SCM site keeps its own rules:
// deployments go through Entra ID, basic publishing credentials are off).
var apimOnlyRestrictions = {
  ipSecurityRestrictionsDefaultAction: 'Deny'
  ipSecurityRestrictions: [
    {
      name: 'api-management'
      action: 'Allow'
      priority: 100
      tag: 'ServiceTag'
      ipAddress: 'ApiManagement'
    }
  ]
  scmIpSecurityRestrictionsUseMain: false
}

module plan 'br/public:avm/res/web/serverfarm:0.7.0' = {
  name: 'plan-${uniqueString(planName)}'
  params: {
    name: planName
    location: location
    tags: tags
    skuName: 'FC1'
    kind: 'functionapp'
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

module functionApp 'br/public:avm/res/web/site:0.24.0' = {
  name: 'func-${uniqueString(functionAppName)}'
  params: {
    name: functionAppName
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    kind: 'functionapp,linux'
    serverFarmResourceId: plan.outputs.resourceId
    httpsOnly: true
    clientAffinityEnabled: false
    managedIdentities: {
      userAssignedResourceIds: [
        identityResourceId
      ]
    }
    virtualNetworkSubnetResourceId: empty(appSubnetResourceId) ? null : appSubnetResourceId
    siteConfig: union(
      {
        minTlsVersion: '1.2'
        ftpsState: 'Disabled'
        http20Enabled: true
      },
      deployApiManagement ? apimOnlyRestrictions : {}
    )
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: 'https://${hostStorageName}.blob.${storageSuffix}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
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
    configs: [
      {
        name: 'appsettings'
        // Bicep owns the settings: one removed here is removed from the app.
        retainCurrentAppSettings: false
        properties: functionAppSettings
      }
      authSettings
    ]
  }
}

var rateLimitPolicyTemplate = loadTextContent('../policies/rate-limit-by-key.xml')
var rateLimitPolicy = replace(replace(rateLimitPolicyTemplate, '__CALLS__', string(apiRateLimitCalls)), '__RENEWAL_PERIOD__', string(apiRateLimitPeriodSeconds))

module apiManagement 'br/public:avm/res/api-management/service:0.14.4' = if (deployApiManagement) {
  name: 'apim-${uniqueString(apiManagementName)}'
  params: {
    name: apiManagementName
    location: location
    tags: tags
    sku: apiManagementSku
    skuCapacity: 1
    publisherEmail: apiManagementPublisherEmail
    publisherName: apiManagementPublisherName
    apis: [
      {
        name: 'fabrikam-api'
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

@description('Function app name.')
output name string = functionApp.outputs.name

@description('Function app resource id.')
output resourceId string = functionApp.outputs.resourceId

@description('Function app host name.')
output defaultHostname string = functionApp.outputs.defaultHostname

@description('Flex Consumption plan name.')
output planName string = plan.outputs.name

@description('Flex Consumption plan resource id.')
output planResourceId string = plan.outputs.resourceId

@description('Base URL callers use: API Management when deployed, else the function app.')
output apiBaseUrl string = deployApiManagement ? 'https://${apiManagementName}.azure-api.net' : 'https://${functionApp.outputs.defaultHostname}'
