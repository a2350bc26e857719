/** The simulated Microsoft 365 tenant: state, ground truth, mutation helpers and the HTTP server. */
export {
  generateTenant,
  groundTruth,
  groundTruthCounts,
  CLEAN_RETENTION_DAYS,
  SHORT_RETENTION_DAYS,
  DEFAULT_POLICY_MAILBOX_TYPES,
  type AuditLogAgeLimitFormat,
  type ExpectedFinding,
  type GenerateTenantOptions,
  type LicenceAssignment,
  type MailboxDrift,
  type MailboxKind,
  type SimBypassAssociation,
  type SimGroup,
  type SimMailbox,
  type SimOrganization,
  type SimulatedTenant,
  type SimUser,
} from './tenant';
export {
  injectDrift,
  fixDrift,
  setAuditEnabled,
  setAuditLogAgeLimit,
  setAuditActions,
  restoreDefaultAuditSet,
  setAuditBypass,
  setOrganizationAuditDisabled,
  assignUserLicences,
  assignGroupLicences,
  UnknownIdentityError,
  type DriftInjection,
  type DriftFix,
  type LicenceChange,
} from './mutations';
export { startSimulatedTenant, IDENTITY_PATH, type SimulatedTenantServer, type StartSimulatedTenantOptions } from './server';
export { FAULT_KINDS, FaultInjector, type FaultApi, type FaultKind, type FaultSpec, type RandomFaults } from './faults';
export { SimStats, type SimStatsSnapshot } from './stats';
export { EXCHANGE_DEFAULT_PAGE_SIZE, EXCHANGE_MAX_PAGE_SIZE, DEFAULT_RESULT_SIZE, MIA_LICENCE_ERROR } from './exchange-api';
export { GRAPH_RESOURCE, EXCHANGE_RESOURCE } from './tokens';
export { SKU_E3, SKU_E5, M365_AUDITING_CAPABILITY } from './catalog';
export { formatTimeSpan, parseTimeSpan } from './exchange-view';
