import { Alert } from '@mantine/core';
import type { Me } from './api/client';
import { can } from './api/permissions';
import { LazyPage } from './components/LazyPage';
import {
  AuditPage, BreakGlassPage, EngagementPage, FindingsPage, InboxPage, MyAccessPage, PeoplePage, PersonPage,
  RequestPage, ReviewsPage, SessionPage, SessionsPage, SystemsPage, VendorPage, VendorsPage,
} from './lazy-pages';

/** The page for a hash route; an unknown route says so rather than showing an empty screen. */
export const Pages = ({ me, route }: { me: Me; route: string[] }) => {
  const [page = '', ref, more] = route;
  return <LazyPage page={page}>{choose(me, page, ref, more)}</LazyPage>;
};

const choose = (me: Me, page: string, ref: string | undefined, more: string | undefined) => {
  switch (page) {
    case 'inbox': return <InboxPage />;
    case 'request': return <RequestPage me={me} />;
    case 'access': return <MyAccessPage me={me} />;
    case 'reviews': return <ReviewsPage me={me} />;
    case 'findings': return <FindingsPage me={me} />;
    case 'audit': return can(me, 'audit.read') ? <AuditPage /> : <NotAllowed />;
    case 'breakglass': return <BreakGlassPage me={me} />;
    case 'people': return ref ? <PersonPage me={me} handle={ref} /> : <PeoplePage me={me} />;
    case 'engagements': return ref ? <EngagementPage id={ref} /> : <PeoplePage me={me} />;
    // #/sessions, #/sessions/ID (one session), #/sessions/grant/ID (a grant's sessions).
    case 'sessions': return ref === 'grant' ? <SessionsPage key={more} grant={more} /> : ref ? <SessionPage id={ref} /> : <SessionsPage key="all" />;
    case 'systems': return <SystemsPage />;
    case 'vendors': return ref ? <VendorPage id={ref} /> : <VendorsPage />;
    default: return <Alert color="yellow" title="Not found">There is no page here. Choose one from the menu.</Alert>;
  }
};

const NotAllowed = () => <Alert color="yellow" title="Not allowed">Your roles do not include this page.</Alert>;
