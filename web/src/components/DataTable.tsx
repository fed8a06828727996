import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * The console's list table: striped, and scrolling sideways on a narrow screen rather than squeezing its
 * columns below `minWidth`. `head` names the columns ('' for one without a heading); children are the rows.
 */
export const DataTable = ({ head, minWidth, children }: { head: string[]; minWidth: number; children: ReactNode }) => (
  <Table.ScrollContainer minWidth={minWidth}>
    <Table striped>
      <Table.Thead><Table.Tr>{head.map((label, i) => <Table.Th key={i}>{label}</Table.Th>)}</Table.Tr></Table.Thead>
      <Table.Tbody>{children}</Table.Tbody>
    </Table>
  </Table.ScrollContainer>
);
