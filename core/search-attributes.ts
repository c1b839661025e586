// Custom search attributes, defined once. The dev server registers them at start
// (scripts/lib/temporal-server.ts); workflows set them; operators filter by them in the UI.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const MARKET = defineSearchAttributeKey('Market', SearchAttributeType.KEYWORD);
export const STAGE = defineSearchAttributeKey('Stage', SearchAttributeType.KEYWORD);

/** For `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTES = { Market: 'Keyword', Stage: 'Keyword' } as const;
