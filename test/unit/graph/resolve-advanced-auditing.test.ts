import { ADVANCED_AUDITING_PLAN_ID } from '../../../shared/domain/audit';
import { type GraphLicensedUser, graphUserSchema, resolveAdvancedAuditing } from '../../../shared/graph';

const PLAN = ADVANCED_AUDITING_PLAN_ID;
const E5 = '06ebc4ee-1bb5-47dd-8120-11324bc54e06';
const E5_COMPLIANCE = '184efa21-98c3-4e5d-95ab-d07053a96e67';
const E3 = '05e9a617-0261-4cee-bb44-138d3ef5d965';
const SKUS_WITH_PLAN = new Set([E5, E5_COMPLIANCE]);
const GROUP_A = 'aaaaaaaa-0000-0000-0000-000000000001';
const GROUP_B = 'bbbbbbbb-0000-0000-0000-000000000002';
const OTHER_PLAN = 'efb87545-963c-4e0d-99df-69c6916d9eb0';

interface State {
  skuId: string;
  disabledPlans?: string[];
  assignedByGroup?: string | null;
  state?: string | null;
}

function user(options: {
  states?: State[];
  licences?: Array<{ skuId: string; disabledPlans?: string[] }>;
  plans?: Array<{ servicePlanId: string; capabilityStatus: string; assignedDateTime?: string }>;
  usageLocation?: string | null;
}): GraphLicensedUser {
  const states = options.states ?? [];
  return graphUserSchema.parse({
    id: 'user-1',
    userPrincipalName: 'adele@contoso.com',
    usageLocation: options.usageLocation === undefined ? 'GB' : options.usageLocation,
    assignedLicenses:
      options.licences ?? [...new Map(states.map((s) => [s.skuId, { skuId: s.skuId, disabledPlans: s.disabledPlans ?? [] }])).values()],
    assignedPlans: (options.plans ?? []).map((plan) => ({ service: 'exchange', assignedDateTime: '2024-01-01T00:00:00Z', ...plan })),
    licenseAssignmentStates: states.map((state) => ({
      skuId: state.skuId,
      disabledPlans: state.disabledPlans ?? [],
      assignedByGroup: state.assignedByGroup ?? null,
      state: state.state === undefined ? 'Active' : state.state,
      error: 'None',
    })),
  });
}

const enabledPlan = [{ servicePlanId: PLAN, capabilityStatus: 'Enabled' }];

describe('resolveAdvancedAuditing', () => {
  it('carries the user identity and usage location through', () => {
    const state = resolveAdvancedAuditing(user({ usageLocation: null }), SKUS_WITH_PLAN);
    expect(state).toMatchObject({ objectId: 'user-1', userPrincipalName: 'adele@contoso.com', usageLocation: null });
  });

  it('unlicensed user: nothing includes the plan', () => {
    expect(resolveAdvancedAuditing(user({}), SKUS_WITH_PLAN).advancedAuditing).toEqual({
      skuIncludesPlan: false,
      enabled: false,
      disabledInSkus: [],
      capabilityStatus: null,
      source: 'none',
      viaGroups: [],
    });
  });

  it('a SKU without the plan (E3) is out of scope', () => {
    const result = resolveAdvancedAuditing(user({ states: [{ skuId: E3 }] }), SKUS_WITH_PLAN).advancedAuditing;
    expect(result).toMatchObject({ skuIncludesPlan: false, enabled: false, source: 'none' });
  });

  it('direct E5 with the plan enabled and provisioned', () => {
    expect(resolveAdvancedAuditing(user({ states: [{ skuId: E5 }], plans: enabledPlan }), SKUS_WITH_PLAN).advancedAuditing).toEqual({
      skuIncludesPlan: true,
      enabled: true,
      disabledInSkus: [],
      capabilityStatus: 'Enabled',
      source: 'direct',
      viaGroups: [],
    });
  });

  it('E5 inherited from a group', () => {
    expect(
      resolveAdvancedAuditing(user({ states: [{ skuId: E5, assignedByGroup: GROUP_A }], plans: enabledPlan }), SKUS_WITH_PLAN)
        .advancedAuditing,
    ).toMatchObject({ enabled: true, source: 'group', viaGroups: [GROUP_A] });
  });

  it('E5 both direct and from a group', () => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5 }, { skuId: E5, assignedByGroup: GROUP_A }], plans: enabledPlan }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ enabled: true, source: 'direct-and-group', viaGroups: [GROUP_A] });
  });

  it('several groups, listed once each in the order seen', () => {
    const result = resolveAdvancedAuditing(
      user({
        states: [
          { skuId: E5, assignedByGroup: GROUP_B },
          { skuId: E5_COMPLIANCE, assignedByGroup: GROUP_A },
          { skuId: E5_COMPLIANCE, assignedByGroup: GROUP_B },
        ],
        plans: enabledPlan,
      }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ source: 'group', viaGroups: [GROUP_B, GROUP_A] });
  });

  it('plan disabled in the only assignment', () => {
    expect(
      resolveAdvancedAuditing(user({ states: [{ skuId: E5, disabledPlans: [PLAN] }] }), SKUS_WITH_PLAN).advancedAuditing,
    ).toEqual({
      skuIncludesPlan: true,
      enabled: false,
      disabledInSkus: [E5],
      capabilityStatus: null,
      source: 'none',
      viaGroups: [],
    });
  });

  it('plan disabled in the group assignment but enabled directly', () => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5, assignedByGroup: GROUP_A, disabledPlans: [PLAN] }, { skuId: E5 }], plans: enabledPlan }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ enabled: true, source: 'direct', viaGroups: [], disabledInSkus: [E5] });
  });

  it('other plans disabled do not matter', () => {
    const result = resolveAdvancedAuditing(user({ states: [{ skuId: E5, disabledPlans: [OTHER_PLAN] }], plans: enabledPlan }), SKUS_WITH_PLAN)
      .advancedAuditing;
    expect(result).toMatchObject({ enabled: true, disabledInSkus: [] });
  });

  it('enabled in the assignment but not Enabled in assignedPlans', () => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5, assignedByGroup: GROUP_A }], plans: [{ servicePlanId: PLAN, capabilityStatus: 'Suspended' }] }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    // The route is still reported, so the rule can say where the suspended plan comes from.
    expect(result).toMatchObject({ skuIncludesPlan: true, enabled: false, capabilityStatus: 'Suspended', source: 'group', viaGroups: [GROUP_A] });
  });

  it('enabled in the assignment but absent from assignedPlans (not provisioned yet)', () => {
    const result = resolveAdvancedAuditing(user({ states: [{ skuId: E5 }], plans: [] }), SKUS_WITH_PLAN).advancedAuditing;
    expect(result).toMatchObject({ enabled: false, capabilityStatus: null, source: 'direct' });
  });

  it('Enabled in assignedPlans but no active assignment grants it', () => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5, disabledPlans: [PLAN] }], plans: enabledPlan }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ enabled: false, capabilityStatus: 'Enabled', source: 'none' });
  });

  it.each(['Error', 'Disabled', null])('a group assignment in state %p grants nothing but still counts as including the plan', (state) => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5, assignedByGroup: GROUP_A, state }], licences: [], plans: enabledPlan }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ skuIncludesPlan: true, enabled: false, source: 'none', viaGroups: [] });
  });

  it.each(['ActiveWithError', 'ActivewithErrors', 'active'])('state %p counts as active', (state) => {
    const result = resolveAdvancedAuditing(user({ states: [{ skuId: E5, state }], plans: enabledPlan }), SKUS_WITH_PLAN).advancedAuditing;
    expect(result).toMatchObject({ enabled: true, source: 'direct' });
  });

  it('prefers an Enabled entry when the plan appears more than once in assignedPlans', () => {
    const result = resolveAdvancedAuditing(
      user({
        states: [{ skuId: E5 }],
        plans: [
          { servicePlanId: PLAN, capabilityStatus: 'Deleted', assignedDateTime: '2025-06-01T00:00:00Z' },
          { servicePlanId: PLAN, capabilityStatus: 'Enabled', assignedDateTime: '2024-01-01T00:00:00Z' },
        ],
      }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ capabilityStatus: 'Enabled', enabled: true });
  });

  it('otherwise takes the most recently assigned entry', () => {
    const result = resolveAdvancedAuditing(
      user({
        states: [{ skuId: E5 }],
        plans: [
          { servicePlanId: PLAN, capabilityStatus: 'Deleted', assignedDateTime: '2023-01-01T00:00:00Z' },
          { servicePlanId: PLAN, capabilityStatus: 'Suspended', assignedDateTime: '2025-01-01T00:00:00Z' },
          { servicePlanId: PLAN, capabilityStatus: 'Warning', assignedDateTime: '2024-01-01T00:00:00Z' },
        ],
      }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result.capabilityStatus).toBe('Suspended');
  });

  it('ignores other plans in assignedPlans', () => {
    const result = resolveAdvancedAuditing(
      user({ states: [{ skuId: E5 }], plans: [{ servicePlanId: OTHER_PLAN, capabilityStatus: 'Enabled' }] }),
      SKUS_WITH_PLAN,
    ).advancedAuditing;
    expect(result).toMatchObject({ capabilityStatus: null, enabled: false });
  });

  it('compares GUIDs without regard to case', () => {
    const result = resolveAdvancedAuditing(
      user({
        states: [{ skuId: E5.toUpperCase(), disabledPlans: [PLAN.toUpperCase()] }, { skuId: E5_COMPLIANCE.toUpperCase() }],
        plans: [{ servicePlanId: PLAN.toUpperCase(), capabilityStatus: 'Enabled' }],
      }),
      new Set([E5, E5_COMPLIANCE.toUpperCase()]),
    ).advancedAuditing;
    expect(result).toMatchObject({ skuIncludesPlan: true, enabled: true, disabledInSkus: [E5], source: 'direct' });
  });

  it('a plan-carrying add-on next to E3 is enough', () => {
    const result = resolveAdvancedAuditing(user({ states: [{ skuId: E3 }, { skuId: E5_COMPLIANCE }], plans: enabledPlan }), SKUS_WITH_PLAN)
      .advancedAuditing;
    expect(result).toMatchObject({ skuIncludesPlan: true, enabled: true, source: 'direct' });
  });

  it('without licenseAssignmentStates, reads assignedLicenses as direct and active', () => {
    const bare = user({ licences: [{ skuId: E5 }], plans: enabledPlan });
    expect(bare.licenseAssignmentStates).toEqual([]);
    expect(resolveAdvancedAuditing(bare, SKUS_WITH_PLAN).advancedAuditing).toMatchObject({
      skuIncludesPlan: true,
      enabled: true,
      source: 'direct',
    });
    const disabled = user({ licences: [{ skuId: E5, disabledPlans: [PLAN] }], plans: enabledPlan });
    expect(resolveAdvancedAuditing(disabled, SKUS_WITH_PLAN).advancedAuditing).toMatchObject({ enabled: false, disabledInSkus: [E5] });
  });

  it('an empty set of plan-carrying SKUs means nobody is in scope', () => {
    expect(resolveAdvancedAuditing(user({ states: [{ skuId: E5 }], plans: enabledPlan }), new Set()).advancedAuditing).toMatchObject({
      skuIncludesPlan: false,
      enabled: false,
    });
  });
});
