import { describe, expect, it } from 'vitest';
import { DatasetFormat, UploadDatasetRequest } from './gen/midspec/worker/v1/datasets.js';
import { serializeUploadRequest } from './worker-client.js';

describe('serializeUploadRequest', () => {
  it('encodes chunks of every length-prefix size exactly as the generated encoder does', () => {
    for (const size of [0, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const chunk = Buffer.alloc(size, size % 251);
      const fast = serializeUploadRequest({ part: { $case: 'chunk', chunk } });
      const general = UploadDatasetRequest.encode(
        UploadDatasetRequest.fromPartial({ part: { $case: 'chunk', chunk } }),
      ).finish();
      expect(Buffer.compare(fast, Buffer.from(general)), `size ${size}`).toBe(0);
      const decoded = UploadDatasetRequest.decode(fast);
      expect(decoded.part?.$case).toBe('chunk');
      if (decoded.part?.$case === 'chunk') expect(decoded.part.chunk.length).toBe(size);
    }
  });

  it('encodes a header with the generated encoder', () => {
    const header = {
      name: 'a.jsonl',
      format: DatasetFormat.DATASET_FORMAT_CHAT,
      sha256: 'f'.repeat(64),
      sizeBytes: 12,
      offset: 3,
    };
    const decoded = UploadDatasetRequest.decode(
      serializeUploadRequest({ part: { $case: 'header', header } }),
    );
    expect(decoded.part).toEqual({ $case: 'header', header: expect.objectContaining(header) });
  });
});
