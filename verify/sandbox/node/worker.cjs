'use strict';
// The sandbox's Node BullMQ worker: one queue per process, like a NestJS @Processor.
// Its connection settings (password included) arrive on stdin, never on the command line.
//
// The contract every worker of the platform honours (see README, "The canary contract"):
// a job named `verify-canary` completes at once, with no side effect.
// Sandbox-only job names: `fail` fails on purpose; `hold` keeps the worker busy while the
// key `verify-sandbox:hold:<queue>` exists (the sandbox's backlog and stall faults).
const fs = require('node:fs');
const { Worker } = require('bullmq');
const IORedis = require('ioredis');

const config = JSON.parse(fs.readFileSync(0, 'utf8'));
const HOLD_KEY = `verify-sandbox:hold:${config.queue}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const connection = new IORedis({
  host: config.host,
  port: config.port,
  username: config.username,
  password: config.password,
  tls: { ca: fs.readFileSync(config.ca), servername: 'localhost' },
  maxRetriesPerRequest: null, // BullMQ workers require it
  retryStrategy: (times) => Math.min(times * 100, 1000),
});
connection.on('error', (err) => console.error(`connection: ${err.message}`));

async function processor(job) {
  if (job.name === 'verify-canary') {
    return { canary: true };
  }
  if (job.name === 'fail') {
    throw new Error('sandbox: this job fails on purpose');
  }
  if (job.name === 'hold') {
    const until = Date.now() + (job.data.max_s || 600) * 1000;
    while (Date.now() < until && (await connection.exists(HOLD_KEY)) === 1) {
      await sleep(100);
    }
    return { held: true };
  }
  if (job.data && job.data.work_ms) {
    await sleep(job.data.work_ms);
  }
  return { ok: true };
}

const worker = new Worker(config.queue, processor, {
  connection,
  prefix: config.prefix,
  name: config.name,
  concurrency: config.concurrency || 1,
  lockDuration: config.lockDuration,
  stalledInterval: config.stalledInterval,
  maxStalledCount: 1,
});
worker.on('error', (err) => console.error(`worker: ${err.message}`));
worker.on('ready', () => console.log(`worker ${config.name} ready on ${config.queue}`));

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await worker.close().catch(() => {});
  await connection.quit().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
