/**
 * Where a proxied SSH session may forward to (`ssh -L`, `-W`, `-J`): an entitlement of a proxied
 * ssh-ca system lists destinations as `host:port`, as the host resolves them (docs/policy.md). The
 * list is matched exactly, by string: no wildcards, no ranges, no resolution by the proxy. A person
 * who writes the same place another way (`127.1`, `localhost` for `127.0.0.1`) is refused, which
 * fails closed; resolving names on the proxy would check a different machine's idea of a name than
 * the host that opens the connection.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const FORWARDING_RULE = 'must be host:port, such as 127.0.0.1:5432, localhost:8080 or [::1]:5432: '
  + 'an IP address (IPv6 in brackets) or a lowercase host name, and a port from 1 to 65535; no wildcards or ranges';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const isHostName = (name: string): boolean => {
  const labels = name.split('.');
  // A last label of digits only is an IPv4 address written some other way (`127.1`), which hosts read differently.
  return name.length <= 253 && labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
};

const isPort = (text: string): boolean => /^[1-9]\d{0,4}$/.test(text) && Number(text) <= 65_535;

/** Whether a policy's destination is well formed (the rule is FORWARDING_RULE). */
export const isForwardingDestination = (text: string): boolean => {
  const at = text.lastIndexOf(':');
  if (at <= 0 || !isPort(text.slice(at + 1))) return false;
  const host = text.slice(0, at);
  if (host.startsWith('[')) {
    const address = host.slice(1, -1);
    return host.endsWith(']') && !address.includes('%') && isIPv6(address);
  }
  return isIPv4(host) || isHostName(host);
};

/** A `direct-tcpip` request's destination, written as the policy writes it, so that equal means allowed. */
export const forwardingDestination = (host: string, port: number): string =>
  `${host.includes(':') ? `[${host.toLowerCase()}]` : host.toLowerCase()}:${port}`;
