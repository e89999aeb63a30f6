import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FileCheck } from './regular-file.js';
import { exitBlockers } from './exit-blockers.js';
import {
  listDirectory,
  readRegularFile,
  readRegularFileSync,
  statIfPresent,
  statRegularFile,
} from './regular-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'skiff-regular-file-test-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fifo(name: string): string {
  const file = path.join(dir, name);
  execFileSync('mkfifo', [file]);
  return file;
}

const LABELS: FileCheck = { code: 'SKIFF_LABELS_INVALID', what: 'labels file', timeoutMs: 5000 };

describe('reading a file that must be a regular one', () => {
  const text = path.join(dir, 'labels.txt');
  writeFileSync(text, 'cat\ndog\n');

  test('a regular file is read whole, by either form', async () => {
    assert.equal((await readRegularFile(text, LABELS)).toString(), 'cat\ndog\n');
    assert.equal(readRegularFileSync(text, LABELS).toString(), 'cat\ndog\n');
    assert.equal((await statRegularFile(text, LABELS)).size, 8);
  });

  test('a FIFO is refused at once, with the code and a message naming what it is', async () => {
    const file = fifo('labels.fifo');
    const refusal = {
      code: 'SKIFF_LABELS_INVALID',
      message: `labels file ${file} is a FIFO, not a regular file`,
    };
    await assert.rejects(readRegularFile(file, LABELS), refusal);
    await assert.rejects(statRegularFile(file, LABELS), refusal);
    assert.throws(() => readRegularFileSync(file, LABELS), refusal);
  });

  test('a directory and a device are refused; shownAs replaces the path in messages', async () => {
    await assert.rejects(readRegularFile(dir, { ...LABELS, shownAs: 'm/labels.txt' }), {
      message: 'labels file m/labels.txt is a directory, not a regular file',
    });
    await assert.rejects(readRegularFile('/dev/zero', { ...LABELS, what: '' }), {
      message: '/dev/zero is a character device, not a regular file',
    });
  });

  test('a missing file: statIfPresent says undefined, the others name the errno code', async () => {
    const missing = path.join(dir, 'absent.txt');
    assert.equal(await statIfPresent(missing, LABELS), undefined);
    await assert.rejects(readRegularFile(missing, LABELS), {
      code: 'SKIFF_LABELS_INVALID',
      message: `cannot read labels file ${missing}: ENOENT`,
    });
    await assert.rejects(statRegularFile(missing, LABELS), {
      message: `cannot read labels file ${missing}: ENOENT`,
    });
    await assert.rejects(listDirectory(missing, LABELS), {
      message: `cannot read labels file ${missing}: ENOENT`,
    });
  });

  test('an aborted signal stops the wait with its reason', async () => {
    const reason = new Error('given up');
    await assert.rejects(readRegularFile(text, { ...LABELS, signal: AbortSignal.abort(reason) }), reason);
  });
});

describe('a file system that does not answer', () => {
  const drained = async (): Promise<void> => {
    while (exitBlockers().length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  test("times out with the check's code, and the call stays an exit blocker until it returns", async () => {
    await drained();
    // Every thread of libuv's pool blocked opening a FIFO nobody writes to: to a caller the file system
    // (any file) has stopped answering, as a dead network mount does.
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const stuck = Array.from({ length: poolSize }, (_, i) => fifo(`stuck-${i}`));
    const reads = stuck.map((file) => readFile(file));
    const file = path.join(dir, 'model.json');
    writeFileSync(file, '{}');
    try {
      await assert.rejects(
        statIfPresent(file, { code: 'SKIFF_CONFIG_UNREADABLE', what: 'model config', timeoutMs: 100 }),
        {
          code: 'SKIFF_CONFIG_UNREADABLE',
          message: `model config ${file}: the file system did not answer within 100 ms (a hung network mount?)`,
        },
      );
      assert.deepEqual(exitBlockers(), [`a file-system call on ${file}`]);
    } finally {
      // Opening the write ends lets every blocked open return, and the reads end at once (nothing written);
      // otherwise this test process could not exit either.
      for (const f of stuck) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      await Promise.all(reads);
    }
    await drained();
  });
});
