/** Typed search-attribute keys, shared by the client (at start) and workflows (upserts). Workflow-safe. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './names.js';

export const SA_MODEL = defineSearchAttributeKey(SEARCH_ATTRIBUTES.model, SearchAttributeType.KEYWORD);
export const SA_DATASET = defineSearchAttributeKey(SEARCH_ATTRIBUTES.dataset, SearchAttributeType.KEYWORD);
export const SA_STAGE = defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage, SearchAttributeType.KEYWORD);
export const SA_TRIGGER = defineSearchAttributeKey(SEARCH_ATTRIBUTES.trigger, SearchAttributeType.KEYWORD);
