/** The simulated Microsoft 365 tenant: state, ground truth, mutation helpers and the HTTP server. */
export {
  generateTenant,
  groundTruth,
  groundTruthCounts,
  groundTruthCoverage,
  mailboxlessAccountCount,
  defaultReprocessRepairs,
  CLEAN_RETENTION_DAYS,
  SHORT_RETENTION_DAYS,
  DEFAULT_POLICY_MAILBOX_TYPES,
  MAX_MAILBOXES,
  type AssociationAccountKind,
  type AuditLogAgeLimitFormat,
  type CoverageVerdict,
  type ExpectedCoverage,
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
  injectTenantDrift,
  fixTenantDrift,
  associationOrThrow,
  setAuditEnabled,
  setAuditLogAgeLimit,
  setAuditActions,
  restoreDefaultAuditSet,
  setAuditBypass,
  setOrganizationAuditDisabled,
  setUnifiedAuditLogIngestion,
  assignUserLicences,
  assignGroupLicences,
  reprocessLicenceAssignment,
  licenceRefuses,
  UnknownIdentityError,
  type DriftInjection,
  type DriftFix,
  type LicenceChange,
  type TenantDrift,
} from './mutations';
export { alreadyAuditedResponse, type AlreadyAuditedResponse } from './quirks';
export { PINNED_POLICY, PINNED_MAILBOX_TYPES, ORACLE_RULE_IDS, type OracleRuleId } from './pinned-policy';
export {
  ADVANCED_AUDITING_PLAN_ID,
  ALREADY_AUDITED_ERROR,
  INGESTION_CHANGE_WARNING,
  LICENCE_MODELS,
  LOGON_TYPES,
  MAIL_ITEMS_ACCESSED,
  MANAGED_DEFAULTS,
  MESSAGE_BIND_ERROR,
  PREMIUM_ONLY_2023,
  UAL_RETENTION_DAYS,
  VALID_ACTIONS,
  type LicenceModel,
  type LogonType,
} from './microsoft-facts';
export { startSimulatedTenant, IDENTITY_PATH, type SimulatedTenantServer, type StartSimulatedTenantOptions } from './server';
export type { ReceivedRequests } from './http-types';
export { FAULT_KINDS, FaultInjector, type FaultApi, type FaultKind, type FaultSpec, type RandomFaults } from './faults';
export { SimStats, type SimStatsSnapshot } from './stats';
export { EXCHANGE_DEFAULT_PAGE_SIZE, EXCHANGE_MAX_PAGE_SIZE, DEFAULT_RESULT_SIZE, MIA_LICENCE_ERROR } from './exchange-api';
export { GRAPH_RESOURCE, EXCHANGE_RESOURCE } from './tokens';
export {
  SKU_E3,
  SKU_E5,
  TEAMS_PLAN_ID,
  M365_AUDITING_CAPABILITY,
  MANAGED_LISTS_PREMIUM,
  MANAGED_LISTS_STANDARD_2023,
  GROUP_FAILURE_LISTS,
} from './catalog';
export { formatTimeSpan, parseTimeSpan } from './exchange-view';
