/** The TCP listener both proxies share: listening reports a taken port as an error, not an event. */
import type { AddressInfo, Server } from 'node:net';

export const listen = (server: Server, host: string, port: number): Promise<void> => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, () => { server.off('error', reject); resolve(); });
});

export const addressOf = (server: Server): { host: string; port: number } => {
  const address = server.address() as AddressInfo;
  return { host: address.address, port: address.port };
};
