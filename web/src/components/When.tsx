/** Dates as the reader's locale shows them; the ISO text stays in the title for the exact instant. */
export const When = ({ at }: { at: string | null | undefined }) => {
  if (!at) return <span>—</span>;
  const date = new Date(at);
  return <time dateTime={at} title={at}>{date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</time>;
};
