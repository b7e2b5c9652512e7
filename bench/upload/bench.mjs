// Uploading a large corpus to a local reference worker with @midspec/trainer's uploadDataset
// (local validation + sha256, then streaming in 1 MiB chunks; the worker hashes, stores and
// validates every line), beside a plain file copy on the same disk, with the peak memory growth of
// client and worker. The corpus (1 GiB by default; MIDSPEC_BENCH_UPLOAD_MB to change) is generated
// into a temp folder (under MIDSPEC_BENCH_DIR when set, e.g. /dev/shm to take the disk out of the
// figures) and deleted afterwards.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWorkerClient } from '@midspec/proto';
import { startLocalWorker } from '@midspec/runner';
import { uploadDataset } from '@midspec/trainer';

const MB = 1e6;
const SIZE = Number(process.env.MIDSPEC_BENCH_UPLOAD_MB ?? 1024) * 1024 * 1024;

async function generateCorpus(path) {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const words =
    'the assistant explains the values behind each rule of its spec and why they matter'.split(' ');
  let written = 0;
  let index = 0;
  while (written < SIZE) {
    const body = Array.from(
      { length: 150 },
      (_, word) => words[(index * 7 + word) % words.length],
    ).join(' ');
    const line = `${JSON.stringify({ text: `Document ${index}. ${body}` })}\n`;
    index += 1;
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return written;
}

function kib(text, field) {
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
}

export default async function bench({ log }) {
  const dir = await mkdtemp(
    join(process.env.MIDSPEC_BENCH_DIR ?? tmpdir(), 'midspec-bench-upload-'),
  );
  const corpus = join(dir, 'corpus.jsonl');
  let worker;
  let client;
  try {
    const bytes = await generateCorpus(corpus);
    log(`corpus: ${(bytes / MB).toFixed(0)} MB of {"text": ...} lines in ${dir}`);

    let started = process.hrtime.bigint();
    await pipeline(
      createReadStream(corpus, { highWaterMark: 1 << 20 }),
      createWriteStream(join(dir, 'copy.jsonl')),
    );
    const copySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await rm(join(dir, 'copy.jsonl'));

    worker = await startLocalWorker({ dataDir: join(dir, 'worker'), port: 0 });
    client = createWorkerClient(worker.address);
    await client.getCapabilities();
    const statusFile = `/proc/${worker.child.pid}/status`;
    const workerBefore = kib(await readFile(statusFile, 'utf8'), 'VmRSS');
    global.gc?.();
    const clientBefore = process.memoryUsage().rss;
    let clientPeak = clientBefore;
    const sampler = setInterval(() => {
      clientPeak = Math.max(clientPeak, process.memoryUsage().rss);
    }, 50);

    let streamStarted;
    let streamEnded;
    let validated;
    started = process.hrtime.bigint();
    const uploaded = await uploadDataset(client, corpus, {
      onProgress: (progress) => {
        const now = process.hrtime.bigint();
        if (progress.phase === 'validating' && progress.bytes === progress.totalBytes)
          validated = now;
        if (progress.phase === 'uploading') {
          streamStarted ??= now;
          streamEnded = now;
        }
      },
    });
    const ended = process.hrtime.bigint();
    clearInterval(sampler);
    const workerPeak = kib(await readFile(statusFile, 'utf8'), 'VmHWM');
    const seconds = (from, to) => Number(to - from) / 1e9;
    const total = seconds(started, ended);

    const uploadStarted = started;
    started = process.hrtime.bigint();
    const again = await uploadDataset(client, corpus);
    const dedupSeconds = seconds(started, process.hrtime.bigint());
    if (!again.alreadyExisted) throw new Error('the second upload was not deduplicated');

    log(`uploaded ${uploaded.dataset.numRecords} records in ${total.toFixed(1)} s`);
    log(
      `phases: local validate + sha256 ${seconds(uploadStarted, validated).toFixed(1)} s, ` +
        `stream ${seconds(streamStarted, streamEnded).toFixed(1)} s, ` +
        `worker verify + validate + store after the last chunk ${seconds(streamEnded, ended).toFixed(1)} s`,
    );
    log(`plain copy: ${copySeconds.toFixed(1)} s`);
    log(
      `re-upload of the same content: ${dedupSeconds.toFixed(1)} s (validated again locally, no bytes sent)`,
    );
    log(
      `client RSS ${(clientBefore / MB).toFixed(0)} MB before the upload, peak ${(clientPeak / MB).toFixed(0)} MB; ` +
        `worker RSS ${(workerBefore / MB).toFixed(0)} MB before, peak ${(workerPeak / MB).toFixed(0)} MB`,
    );

    return [
      {
        name: 'upload, end to end (validate, hash, stream, worker verify + store)',
        value: bytes / MB / total,
        unit: 'MB/s',
        baseline: { name: 'plain file copy, same disk', value: bytes / MB / copySeconds },
        target: '≥ 300 MB/s',
      },
      {
        name: 'upload, streaming phase only',
        value: bytes / MB / seconds(streamStarted, streamEnded),
        unit: 'MB/s',
        baseline: { name: 'plain file copy, same disk', value: bytes / MB / copySeconds },
        target: '≥ 300 MB/s',
      },
      {
        name: 'client peak memory growth',
        value: (clientPeak - clientBefore) / MB,
        unit: 'MB',
        target: '< 100 MB',
      },
      {
        name: 'worker peak memory growth',
        value: Math.max(0, workerPeak - workerBefore) / MB,
        unit: 'MB',
        target: '< 100 MB',
      },
    ];
  } finally {
    client?.close();
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
