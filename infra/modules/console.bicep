// The operations console (console/, a static build) on Azure Static Web Apps, Standard plan,
// with the function app linked as its backend: the site serves the console and forwards
// /api/* to the function app on the same origin, so the console keeps talking only to the
// app's own API and the browser never makes a cross-origin call. Sign-in: the site's
// staticwebapp.config.json (console/public) requires an authenticated user on every route and
// signs in with Entra ID against the same app registration as the API (authClientId); the
// registration's client secret is set on the site by the operator (infra/README.md), never here.

@description('Required. Static Web Apps name.')
param name string

@description('Required. Azure region of the static site (Static Web Apps runs in a few regions only; see infra/README.md).')
param location string

@description('Required. Tags for every resource.')
param tags object

@description('Required. Resource id of the function app linked as the /api backend.')
param backendResourceId string

@description('Required. Region of the function app.')
param backendLocation string

@description('Required. Application (client) id of the API app registration the console signs in with.')
param authClientId string

@description('Required. Tenant of that app registration.')
param authTenantId string

module site 'br/public:avm/res/web/static-site:0.9.5' = {
  name: 'swa-${uniqueString(name)}'
  params: {
    name: name
    location: location
    tags: union(tags, { 'azd-service-name': 'console' })
    // Linked backends need the Standard plan.
    sku: 'Standard'
    stagingEnvironmentPolicy: 'Disabled'
    allowConfigFileUpdates: true
    linkedBackend: {
      resourceId: backendResourceId
      region: backendLocation
    }
    appSettings: {
      // Read by staticwebapp.config.json's Entra ID provider; the secret setting is the operator's.
      AZURE_CLIENT_ID: authClientId
      AZURE_TENANT_ID: authTenantId
    }
  }
}

@description('The static site\'s name.')
output name string = site.outputs.name

@description('The static site\'s resource id.')
output resourceId string = site.outputs.resourceId

@description('The console\'s host name (https://<host>/).')
output defaultHostname string = site.outputs.defaultHostname
