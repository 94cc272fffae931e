/**
 * The benchmark, at tiny sizes, so that it cannot rot: every measure runs and reports a figure.
 * (Its targets are judged by `npm run bench` at full size, not here: this machine is shared.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import should from 'should';

const ROOT = path.join(__dirname, '..', '..');

describe('npm run bench, smoke size', function () {
  this.timeout(120_000);

  it('measures every figure, the shared-state ones (6) with a redis-server of its own, and writes the report', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-')), 'BENCHMARKS.md');
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'dev/bench.ts', '--smoke', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    should(run.status).equal(0, run.stderr);
    const report = fs.readFileSync(out, 'utf8');
    should(report).match(/\| 1\. Send overhead .* \| \d+ SMS\/s \| \d+ SMS\/s raw SDK \| \d+\.\d\d \|/);
    should(report).match(/\| 1b\. Send overhead on the Messages API .* \| \d+ SMS\/s \| \d+ SMS\/s raw SDK \(messages client\) \| \d+\.\d\d \|/);
    should(report).match(/\| 2\. Rate fidelity .* \| [\d.]+\/s achieved \| 20\/s limit \| \d\.\d{3} \|/);
    should(report).match(/\| 2\. … lost \/ duplicated SMS \| 0 \/ 0 \|/);
    should(report).match(/\| 3\. Inbound .* \| \d+ req\/s; p50 [\d.]+ ms, p99 [\d.]+ ms \| \d+ req\/s; .*\(http in \+ http response\) \| \d+\.\d\d \|/);
    should(report).match(/\| 4\. Memory, SMS waiting in the queue \| 1k: heap [+−][\d.]+ MiB, RSS [+−][\d.]+ MiB \(\d+ B\/SMS\); 2k: .*; 3k: /);
    should(report).match(/\| 5\. Load .* \| Node-RED start with the package \d+ ms; loading and registering its 5 nodes alone \d+ ms \| without it \d+ ms \|/);
    should(report).match(/\| 4\. Memory, .* \| \d+ B\/msg: Node-RED itself, holding a msg and its send\(\) and done\(\) \|/);
    should(report).match(/\| 6a\. Two instances over Redis .* \| [\d.]+\/s achieved together \| 30\/s limit \| \d\.\d{3} \|/);
    should(report).match(/\| 6a\. … throttled answers \(status 1\) \| \d+ of \d+ \([\d.]+%\) \|/);
    should(report).match(/\| 6a\. … lost \/ duplicated SMS \| 0 \/ 0 \|/);
    should(report).match(/\| 6b\. Send overhead with the state in Redis .* \| \d+ SMS\/s \| \d+ SMS\/s in memory \| \d+\.\d\d \|/);
    should(report).match(/\| 6c\. Inbound with the state in Redis .* \| \d+ req\/s; p50 [\d.]+ ms, p99 [\d.]+ ms \| \d+ req\/s in memory \| \d+\.\d\d \|/);
    should(report).match(/\| 7a\. Send SMS with 1,000 numbers opted out .* \| \d+ SMS\/s \| \d+ SMS\/s, empty list \| \d+\.\d\d \|/);
    should(report).match(/\| 7a\. … one check of the list, in memory \| [\d.]+ µs \|/);
    should(report).match(/\| 7b\. The same with the list in Redis \| \d+ SMS\/s \| \d+ SMS\/s, empty list \| \d+\.\d\d \|/);
    should(report).match(/\| 7b\. … one check of the list, in Redis \| [\d.]+ µs \|/);
    should(report).not.match(/were not taken/);
    should(report).match(/## Machine\n\n\d+ × /);
  });
});
