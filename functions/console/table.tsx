/** @jsxImportSource hono/jsx */
/** The one table of the console: columns (a header and how a row fills its cell), rows, and what an empty table says. */
import type { Child } from 'hono/jsx';

export interface Column<T> {
  /** The header cell's text. */
  head: string;
  /** The cell of one row. */
  cell: (row: T) => Child;
}

/** `data-*` attributes of a row, for tests and styles that pick a row by what it shows. */
export type RowData = Record<`data-${string}`, string | number | undefined>;

export function Table<T>(p: {
  columns: Column<T>[];
  rows: readonly T[];
  /** Shown in place of the rows when there are none. */
  empty: string;
  /** A row's `data-*` attributes and class. */
  row?: (row: T) => RowData & { class?: string };
}) {
  return (
    <table>
      <thead>
        <tr>
          {p.columns.map((c) => (
            <th>{c.head}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {p.rows.length ? (
          p.rows.map((r) => (
            <tr {...p.row?.(r)}>
              {p.columns.map((c) => (
                <td>{c.cell(r)}</td>
              ))}
            </tr>
          ))
        ) : (
          <tr class="empty">
            <td colspan={p.columns.length} class="muted">
              {p.empty}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
