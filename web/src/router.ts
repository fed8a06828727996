import { useEffect, useState } from 'react';

/** Where the console is: `#/people/carl` → ['people', 'carl']. Hash routes need nothing from the server. */
export const currentRoute = (): string[] => window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);

export const useRoute = (): string[] => {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
};

export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join('/')}`;
