/** An engagement's scope lists system keys or entitlement keys; either puts the entitlement in scope. */
export const inEngagementScope = (scope: readonly string[], systemKey: string, entitlementKey: string): boolean =>
  scope.includes(systemKey) || scope.includes(entitlementKey);
