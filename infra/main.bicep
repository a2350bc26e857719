// Audit Warden: Function App on Flex Consumption with a system-assigned managed identity,
// its Storage account (tables + queues + deployment container), Application Insights,
// and a Key Vault for the two secrets (Teams webhook URL, approval signing key).
// The Graph and Exchange permissions are granted to the identity outside this template
// (they need a Global/Privileged Role Administrator): see infra/README.md.

targetScope = 'resourceGroup'

@description('Base name for every resource (letters and digits).')
@minLength(3)
@maxLength(16)
param name string = 'auditwarden'

param location string = resourceGroup().location

@description('The Microsoft 365 tenant to scan (its GUID).')
param m365TenantId string

@description('NCRONTAB schedule of the nightly scan.')
param scanSchedule string = '0 0 2 * * *'

@description('Weekly drift-history retention timer (6-field NCRONTAB); history older than the policy\'s historyRetentionDays is deleted.')
param historyPruneSchedule string = '0 0 4 * * 0'

@description('User principal names or group object ids allowed to approve remediation, comma-separated.')
param approvers string = ''

@description('Client id of the Entra app registration approvers sign in with (App Service Authentication), in the Microsoft 365 tenant; see infra/README.md.')
param signInClientId string

var suffix = uniqueString(resourceGroup().id, name)
var storageName = toLower(take('${name}${suffix}', 24))
var deploymentContainer = 'app-package'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity-based connections only
    supportsHttpsTrafficOnly: true
  }
  resource blobs 'blobServices' = {
    name: 'default'
    resource packages 'containers' = { name: deploymentContainer }
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs-${suffix}'
  location: location
  properties: { retentionInDays: 90, sku: { name: 'PerGB2018' } }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: { Application_Type: 'web', WorkspaceResourceId: logs.id, DisableLocalAuth: true }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${name}-kv-${suffix}', 24)
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: '${name}-${suffix}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      // Nightly scans of large tenants run longer than Consumption's 10 minutes.
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
        { name: 'AZURE_TENANT_ID', value: m365TenantId }
        { name: 'SCAN_SCHEDULE', value: scanSchedule }
        { name: 'HISTORY_PRUNE_SCHEDULE', value: historyPruneSchedule }
        { name: 'APPROVERS', value: approvers }
        { name: 'PUBLIC_BASE_URL', value: 'https://${name}-${suffix}.azurewebsites.net' }
        { name: 'TEAMS_WEBHOOK_URL', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=teams-webhook-url)' }
        { name: 'APPROVAL_SIGNING_KEY', value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=approval-signing-key)' }
      ]
    }
  }
}

// App Service Authentication ("Easy Auth"). The approval and dashboard pages are anonymous at the
// Functions level (a browser following a Teams link cannot carry a function key) and trust the
// x-ms-client-principal headers, which are evidence only when Easy Auth signs the user in and
// replaces whatever a caller sent. So sign-in is required for everything but the query API, whose
// routes are guarded by function keys and read no principal.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [ '/api/findings', '/api/events', '/api/scans', '/api/mailboxes' ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: signInClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${m365TenantId}/v2.0'
        }
        validation: { allowedAudiences: [ signInClientId, 'api://${signInClientId}' ] }
      }
    }
    login: { tokenStore: { enabled: false } }
    httpSettings: { requireHttps: true }
  }
}

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
  name: guid(storage.id, site.id, role)
  scope: storage
  properties: {
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, site.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, site.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

output functionAppName string = site.name
output managedIdentityPrincipalId string = site.identity.principalId
output keyVaultName string = vault.name
