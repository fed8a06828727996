import { lazy } from 'react';

// Each page is its own chunk, fetched the first time its route is shown, so signing in downloads only
// the shell and the vendor code every page shares. Pages are named exports; lazy() wants a default one.
export const AuditPage = lazy(() => import('./pages/AuditPage').then((m) => ({ default: m.AuditPage })));
export const BreakGlassPage = lazy(() => import('./pages/BreakGlassPage').then((m) => ({ default: m.BreakGlassPage })));
export const EngagementPage = lazy(() => import('./pages/EngagementPage').then((m) => ({ default: m.EngagementPage })));
// Through findings-page so the charts' styles travel with the only page that draws charts.
export const FindingsPage = lazy(() => import('./findings-page').then((m) => ({ default: m.FindingsPage })));
export const InboxPage = lazy(() => import('./pages/InboxPage').then((m) => ({ default: m.InboxPage })));
export const MyAccessPage = lazy(() => import('./pages/MyAccessPage').then((m) => ({ default: m.MyAccessPage })));
export const PeoplePage = lazy(() => import('./pages/PeoplePage').then((m) => ({ default: m.PeoplePage })));
export const PersonPage = lazy(() => import('./pages/PersonPage').then((m) => ({ default: m.PersonPage })));
export const RequestPage = lazy(() => import('./pages/RequestPage').then((m) => ({ default: m.RequestPage })));
export const ReviewsPage = lazy(() => import('./pages/ReviewsPage').then((m) => ({ default: m.ReviewsPage })));
export const VendorPage = lazy(() => import('./pages/VendorPage').then((m) => ({ default: m.VendorPage })));
export const VendorsPage = lazy(() => import('./pages/VendorPage').then((m) => ({ default: m.VendorsPage })));
export const SessionPage = lazy(() => import('./pages/SessionPage').then((m) => ({ default: m.SessionPage })));
export const SessionsPage = lazy(() => import('./pages/SessionsPage').then((m) => ({ default: m.SessionsPage })));
export const SystemsPage = lazy(() => import('./pages/SystemsPage').then((m) => ({ default: m.SystemsPage })));
