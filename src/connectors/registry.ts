/**
 * Builds the connector a system's policy describes. Connectors are cheap to build (they connect per
 * operation and resolve their secret references only then), so the worker builds them per pass and
 * a policy change takes effect at the next one. `manual` has no connector: its jobs become tasks.
 */
import type { ConnectorSpec, SystemProvisioning } from '../domain/provisioning.js';
import type { Connector } from './contract.js';
import { LdapConnector } from './ldap.js';
import { PostgresRolesConnector } from './postgres-roles.js';
import { ScimConnector } from './scim.js';
import { SshCaConnector, sshCaConfigOf } from './ssh-ca.js';

/** The connector for a system, or null when its provisioning is manual (or it names no connector). */
export const connectorFor = (system: SystemProvisioning | undefined): Connector | null => {
  if (!system) return null;
  const targets = [...new Set(Object.values(system.targets))].sort();
  return buildConnector(system.connector, targets, system.privilegedTargets ?? [], system.sharedTargets ?? []);
};

export const buildConnector = (spec: ConnectorSpec, targets: string[], privilegedTargets: string[] = [], sharedTargets: string[] = []): Connector | null => {
  switch (spec.type) {
    case 'postgres-roles':
      return new PostgresRolesConnector({ url: spec.url, rolePrefix: spec.role_prefix, roles: targets, privilegedRoles: privilegedTargets,
        sharedRoles: sharedTargets, leftovers: spec.leftovers });
    case 'scim':
      return new ScimConnector({ baseUrl: spec.base_url, token: spec.token, groups: targets,
        ...(spec.user_name_prefix === undefined ? {} : { userNamePrefix: spec.user_name_prefix }) });
    case 'ldap':
      return new LdapConnector({ url: spec.url, bindDn: spec.bind_dn, bindPassword: spec.bind_password, usersDn: spec.users_dn,
        groupsDn: spec.groups_dn, groups: targets, ...(spec.uid_prefix === undefined ? {} : { uidPrefix: spec.uid_prefix }) });
    case 'ssh-ca':
      return new SshCaConnector(sshCaConfigOf(spec, targets));
    case 'manual':
      return null;
  }
};
