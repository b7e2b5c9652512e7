import type { BatchItem, BatchLimits } from './batch-client.js';
import { ModelError } from './model-error.js';

/**
 * Cuts a list of requests into batches that each respect the API's request and size limits, in
 * order. A single request larger than the size limit is an error naming it.
 */
export function splitBatch(
  items: BatchItem[],
  limits: BatchLimits,
  bytesOf: (item: BatchItem) => number,
  provider = 'batch',
): BatchItem[][] {
  const parts: BatchItem[][] = [];
  let current: BatchItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (size > limits.maxBytes)
      throw new ModelError({
        code: 'models/batch',
        provider,
        message: `request ${item.customId} is ${size} bytes, over the batch limit of ${limits.maxBytes}`,
      });
    if (current.length >= limits.maxRequests || bytes + size > limits.maxBytes) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
