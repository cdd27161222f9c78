'use strict';
// Test producer: runs `steps` against one queue with the real Node bullmq, prints the job ids.
const fs = require('node:fs');
const { Queue } = require('bullmq');
const IORedis = require('ioredis');

async function main() {
  const c = JSON.parse(fs.readFileSync(0, 'utf8'));
  const connection = new IORedis({
    host: c.host, port: c.port, username: c.username, password: c.password,
    tls: { ca: fs.readFileSync(c.ca), servername: 'localhost' }, maxRetriesPerRequest: null,
  });
  const queue = new Queue(c.queue, { connection });
  const ids = [];
  for (const step of c.steps) {
    if (step.op === 'add') {
      const job = await queue.add(step.name || 'job', step.data || {}, step.opts || {});
      ids.push(job.id);
    } else if (step.op === 'pause') {
      await queue.pause();
    } else if (step.op === 'resume') {
      await queue.resume();
    } else if (step.op === 'promote') {
      const job = await queue.getJob(step.id);
      await job.promote();
    }
  }
  await queue.close();
  await connection.quit();
  console.log(JSON.stringify(ids));
}
main().catch((err) => { console.error(err); process.exit(1); });
