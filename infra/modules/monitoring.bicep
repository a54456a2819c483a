// Monitoring: Log Analytics and workspace-based Application Insights, local auth off (ingestion
// only with an Entra token, APPLICATIONINSIGHTS_AUTHENTICATION_STRING in app.bicep).

@description('Required. Azure region.')
param location string

@description('Required. Tags for every resource.')
param tags object

@description('Required. Log Analytics workspace name.')
param logAnalyticsName string

@description('Required. Application Insights component name.')
param appInsightsName string

@minValue(30)
@maxValue(730)
@description('Required. Log Analytics retention in days.')
param logRetentionDays int

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.16.1' = {
  name: 'log-${uniqueString(logAnalyticsName)}'
  params: {
    name: logAnalyticsName
    location: location
    tags: tags
    skuName: 'PerGB2018'
    dataRetention: logRetentionDays
    features: {
      disableLocalAuth: true
    }
  }
}

module appInsights 'br/public:avm/res/insights/component:0.8.0' = {
  name: 'appi-${uniqueString(appInsightsName)}'
  params: {
    name: appInsightsName
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

@description('Application Insights component name.')
output name string = appInsights.outputs.name

@description('Application Insights component resource id.')
output resourceId string = appInsights.outputs.resourceId

@description('Where telemetry goes (no credential: local auth is off).')
output appInsightsConnectionString string = appInsights.outputs.connectionString

@description('Log Analytics workspace name.')
output logAnalyticsName string = logAnalytics.outputs.name

@description('Log Analytics workspace resource id.')
output logAnalyticsResourceId string = logAnalytics.outputs.resourceId
