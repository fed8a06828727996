// @mantine/charts' styles must follow @mantine/core's (imported in main.tsx); loading them with the
// Findings chunk keeps that order and keeps them out of the first download with the charts code.
import '@mantine/charts/styles.css';

export { FindingsPage } from './pages/FindingsPage';
