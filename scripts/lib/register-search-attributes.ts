// Registers adloop's search attributes on a Temporal server that lacks them (a server started
// before adloop added one, or a production cluster): a workflow setting an unknown search
// attribute would fail its workflow task. The dev server `npm start` starts registers them itself.
import type { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { SEARCH_ATTRIBUTES } from '../../core/search-attributes.ts';

/** Adds the missing ones; returns their names. */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map(([name, type]) => [
        name,
        encodeSearchAttributeIndexedValueType(type.toUpperCase() as 'KEYWORD' | 'BOOL')!,
      ]),
    ),
  });
  return missing.map(([name]) => name);
}
