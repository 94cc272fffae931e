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
  this.timeout(300_000);

  it('measures every figure, the shared-state ones (6) with a redis-server of its own, and writes the report', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vonage-sms-bench-')), 'BENCHMARKS.md');
    // As npm run bench runs it: bundled into compiled JavaScript, no TypeScript loader.
    const run = spawnSync(process.execPath, ['dev/runBench.js', '--smoke', '--out', out], { cwd: ROOT, encoding: 'utf8' });
    should(run.status).equal(0, run.stderr);
    const report = fs.readFileSync(out, 'utf8');
    should(report).match(/\| 1\. Send overhead .* \| \d+ SMS\/s \| \d+ SMS\/s raw SDK \| \d+\.\d\d \|/);
    should(report).match(/\| 1b\. Send overhead on the Messages API .* \| \d+ SMS\/s \| \d+ SMS\/s raw SDK \(messages client\) \| \d+\.\d\d \|/);
    should(report).match(/\| 2\. Rate fidelity .* \| [\d.]+\/s achieved \| 20\/s limit \| \d\.\d{3} \|/);
    should(report).match(/\| 2\. … lost \/ duplicated SMS \| 0 \/ 0 \|/);
    should(report).match(/\| 3\. Inbound .* \| \d+ req\/s; p50 [\d.]+ ms, p99 [\d.]+ ms \| \d+ req\/s; .*\(http in \+ http response\) \| \d+\.\d\d \|/);
    should(report).match(/\| 4\. Memory, SMS waiting in the queue \| 1k: heap [+−][\d.]+ MiB, RSS [+−][\d.]+ MiB \(\d+ B\/SMS\); 2k: .*; 3k: /);
    should(report).match(/\| 5\. Load .* \| Node-RED start with the package \d+ ms; loading and registering its 6 nodes alone \d+ ms \| without it \d+ ms \|/);
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
    should(report).match(/\| 7c\. Memory of an opt-out list of [\d,]+ numbers, loaded from its journal file \| heap \+[\d.]+ MiB \(\d+ B\/number\), read in \d+ ms \| [\d.]+ MiB file \|/);
    should(report).match(/\| 8\. Cold burst in a real Node-RED \(60 msgs .* \| [\d.]+\/s achieved \| 30\/s limit \| \d\.\d{3} \|/);
    should(report).match(/\| 8\. … throttled answers \(status 1\) \| \d+ of \d+ \|/);
    should(report).match(/\| 8\. … lost \/ duplicated SMS \| 0 \/ 0 \|/);
    should(report).match(/\| 8\. … the event loop's longest pause while the burst is composed and queued .* \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ \| ≤ 25 ms \|/);
    should(report).match(/\| 9\. Memory in a real Node-RED, 2,000 SMS waiting in the queue \| heap [+−][\d.]+ MiB \(\d+ B\/SMS\) \| \d+ B\/msg in a delay node/);
    should(report).match(/\| 9\. … held after a redeploy fails them \| [+−][\d.]+ MiB \([+−][\d.]+ B\/SMS\) \| [+−][\d.]+ B\/msg after the delay node's redeploy \|/);
    should(report).match(/\| 10\. Compose one SMS of 160 GSM-7 characters .* \| [\d.]+ µs \| \d+ µs: sms-segments-calculator alone/);
    should(report).match(/\| 10\. … a burst of 300 such msgs composed at once \| [\d.]+ ms \|/);
    should(report).match(/\| 11\. Latency of one SMS, msg in to msg out .* \| [\d.]+ ms \| [\d.]+ ms raw SDK; floor [\d.]+ ms, a bare keep-alive POST \| \d+\.\d\d \|/);
    should(report).match(
      /\| 12\. Palette install of the package .* \| [\d.]+ MB, [\d,]+ files, \d+ packages, [\d.]+ s \| with @vonage\/server-sdk 3\.27: [\d.]+ MB, .*; with @vonage\/sms \+ @vonage\/messages \+ @vonage\/accounts: [\d.]+ MB/,
    );
    should(report).match(/- 12: 5 runtime dependencies \(the Flow Library's limit is 6\)/);
    should(report).not.match(/were not taken/);
    should(report).match(/## Machine\n\n\d+ × /);
  });
});
