import type { HttpConfig } from '../config.js';

/**
 * The address `serve` names in its start line. Unless TENURE_PUBLIC_URL says otherwise, people are
 * sent to localhost (the sign-in links, the session cookie's origin), so a server listening on
 * 127.0.0.1 is named localhost too: one host in the whole line, the one the browser must stay on.
 */
export const servingAddresses = (listenUrl: string, http: Pick<HttpConfig, 'publicUrl'>, env: NodeJS.ProcessEnv) => {
  const served = env.TENURE_PUBLIC_URL ? listenUrl : listenUrl.replace('//127.0.0.1:', '//localhost:');
  return { served, console: env.TENURE_PUBLIC_URL ? http.publicUrl : served };
};
