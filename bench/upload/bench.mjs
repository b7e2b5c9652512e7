// Uploading a large corpus to a local reference worker with @midspec/trainer's uploadDataset
// (the client hashes the file, then streams it in 1 MiB chunks; the worker hashes, stores and
// checks every line as it arrives), beside a plain file copy on the same disk — the ceiling — and
// beside the same upload with `validate: true` (every line also checked by the client first, as
// before). The three are measured in one invocation, interleaved, several times
// (MIDSPEC_BENCH_UPLOAD_REPEATS, default 3), each upload to a fresh worker; figures are medians
// with min–max, and the load average is printed with each repeat. The corpus (1 GiB by default;
// MIDSPEC_BENCH_UPLOAD_MB to change) is generated into a temp folder (under MIDSPEC_BENCH_DIR when
// set, e.g. /dev/shm to take the disk out of the figures) and deleted afterwards.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWorkerClient } from '@midspec/proto';
import { startLocalWorker } from '@midspec/runner';
import { uploadDataset } from '@midspec/trainer';

const MB = 1e6;
const SIZE = Number(process.env.MIDSPEC_BENCH_UPLOAD_MB ?? 1024) * 1024 * 1024;
const REPEATS = Math.max(1, Number(process.env.MIDSPEC_BENCH_UPLOAD_REPEATS ?? 3));

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

const seconds = (from, to) => Number(to - from) / 1e9;

/** CPU seconds (user + system, every thread) a process has used; clock ticks are 1/100 s. */
async function cpuSeconds(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function ownCpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function plainCopy(dir, corpus) {
  const started = process.hrtime.bigint();
  await pipeline(
    createReadStream(corpus, { highWaterMark: 1 << 20 }),
    createWriteStream(join(dir, 'copy.jsonl')),
  );
  const elapsed = seconds(started, process.hrtime.bigint());
  await rm(join(dir, 'copy.jsonl'));
  return elapsed;
}

/** One upload to a fresh worker: its time, phases and both processes' peak memory growth. */
async function upload(dir, corpus, name, options) {
  const worker = await startLocalWorker({ dataDir: join(dir, name), port: 0 });
  const client = createWorkerClient(worker.address);
  try {
    await client.getCapabilities();
    const statusFile = `/proc/${worker.child.pid}/status`;
    const workerBefore = kib(await readFile(statusFile, 'utf8'), 'VmRSS');
    global.gc?.();
    const clientBefore = process.memoryUsage().rss;
    let clientPeak = clientBefore;
    const sampler = setInterval(() => {
      clientPeak = Math.max(clientPeak, process.memoryUsage().rss);
    }, 50);
    let prepared;
    let streamEnded;
    const workerCpu = await cpuSeconds(worker.child.pid);
    const clientCpu = ownCpuSeconds();
    const started = process.hrtime.bigint();
    const uploaded = await uploadDataset(client, corpus, {
      ...options,
      onProgress: (progress) => {
        const now = process.hrtime.bigint();
        if (progress.phase === 'uploading') {
          prepared ??= now;
          streamEnded = now;
        }
      },
    });
    const ended = process.hrtime.bigint();
    const cpu = {
      client: ownCpuSeconds() - clientCpu,
      worker: (await cpuSeconds(worker.child.pid)) - workerCpu,
    };
    clearInterval(sampler);
    const workerPeak = kib(await readFile(statusFile, 'utf8'), 'VmHWM');
    let dedup;
    if (!options.validate) {
      const again = process.hrtime.bigint();
      const second = await uploadDataset(client, corpus);
      if (!second.alreadyExisted) throw new Error('the second upload was not deduplicated');
      dedup = seconds(again, process.hrtime.bigint());
    }
    return {
      records: uploaded.dataset.numRecords,
      total: seconds(started, ended),
      prepare: seconds(started, prepared),
      stream: seconds(prepared, streamEnded),
      after: seconds(streamEnded, ended),
      clientGrowth: (clientPeak - clientBefore) / MB,
      workerGrowth: Math.max(0, workerPeak - workerBefore) / MB,
      cpu,
      dedup,
    };
  } finally {
    client.close();
    await worker.stop();
    await rm(join(dir, name), { recursive: true, force: true });
  }
}

function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

const range = ({ min, median, max }, digits = 0) =>
  `${median.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`;

export default async function bench({ log }) {
  const dir = await mkdtemp(
    join(process.env.MIDSPEC_BENCH_DIR ?? tmpdir(), 'midspec-bench-upload-'),
  );
  const corpus = join(dir, 'corpus.jsonl');
  try {
    const bytes = await generateCorpus(corpus);
    log(
      `corpus: ${(bytes / MB).toFixed(0)} MB of {"text": ...} lines in ${dir}; ${REPEATS} repeats`,
    );
    const copies = [];
    const ours = [];
    const checkedTwice = [];
    for (let repeat = 1; repeat <= REPEATS; repeat += 1) {
      const loadBefore = loadavg()[0];
      // The order rotates, so no side always runs first (with a warmer cache or a quieter machine).
      const steps = [
        async () => copies.push(await plainCopy(dir, corpus)),
        async () => ours.push(await upload(dir, corpus, 'worker', {})),
        async () => checkedTwice.push(await upload(dir, corpus, 'worker', { validate: true })),
      ];
      for (let step = 0; step < steps.length; step += 1)
        await steps[(step + repeat - 1) % steps.length]();
      const [copy, one, two] = [copies.at(-1), ours.at(-1), checkedTwice.at(-1)];
      log(
        `repeat ${repeat}: load ${loadBefore.toFixed(1)}→${loadavg()[0].toFixed(1)}; ` +
          `copy ${(bytes / MB / copy).toFixed(0)} MB/s; ` +
          `upload ${(bytes / MB / one.total).toFixed(0)} MB/s (${one.total.toFixed(1)} s: ` +
          `hash ${one.prepare.toFixed(1)}, stream ${one.stream.toFixed(1)}, then ${one.after.toFixed(2)}; ` +
          `CPU s client ${one.cpu.client.toFixed(1)}, worker ${one.cpu.worker.toFixed(1)}); ` +
          `with validate ${(bytes / MB / two.total).toFixed(0)} MB/s (${two.total.toFixed(1)} s: ` +
          `validate + hash ${two.prepare.toFixed(1)}, stream ${two.stream.toFixed(1)}; ` +
          `CPU s client ${two.cpu.client.toFixed(1)}, worker ${two.cpu.worker.toFixed(1)})`,
      );
    }
    const rate = (value) => bytes / MB / value;
    const copyRate = spread(copies.map(rate));
    const oursRate = spread(ours.map((one) => rate(one.total)));
    const twiceRate = spread(checkedTwice.map((one) => rate(one.total)));
    const ratio = spread(ours.map((one, index) => copies[index] / one.total));
    const clientGrowth = Math.max(...ours.map((one) => one.clientGrowth));
    const workerGrowth = Math.max(...ours.map((one) => one.workerGrowth));
    log(`records: ${ours[0].records}`);
    log(`plain copy ${range(copyRate)} MB/s (median, min–max)`);
    log(`upload end to end ${range(oursRate)} MB/s; per repeat upload/copy ${range(ratio, 2)}×`);
    log(`upload with validate: true ${range(twiceRate)} MB/s`);
    const gib = bytes / 2 ** 30;
    const cpu = (runs, side) => range(spread(runs.map((one) => one.cpu[side] / gib)), 1);
    log(
      `CPU seconds per GiB: upload client ${cpu(ours, 'client')}, worker ${cpu(ours, 'worker')}; ` +
        `with validate client ${cpu(checkedTwice, 'client')}, worker ${cpu(checkedTwice, 'worker')}`,
    );
    log(
      `peak memory growth: client ${clientGrowth.toFixed(0)} MB, worker ${workerGrowth.toFixed(0)} MB (max over repeats); ` +
        `re-upload of held content ${ours[0].dedup.toFixed(1)} s (hashed, nothing sent)`,
    );
    return [
      {
        name: `upload end to end, median of ${REPEATS} (hash, stream; the worker hashes, stores, checks each line)`,
        value: oursRate.median,
        unit: 'MB/s',
        baseline: { name: 'plain file copy, same disk: the ceiling', value: copyRate.median },
        target: '≥ 250 MB/s',
      },
      {
        name: 'upload with validate: true (each line checked by the client too)',
        value: twiceRate.median,
        unit: 'MB/s',
        baseline: { name: 'plain file copy, same disk: the ceiling', value: copyRate.median },
      },
      {
        name: 'client peak memory growth',
        value: clientGrowth,
        unit: 'MB',
        target: '< 100 MB',
      },
      {
        name: 'worker peak memory growth',
        value: workerGrowth,
        unit: 'MB',
        target: '< 100 MB',
      },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
