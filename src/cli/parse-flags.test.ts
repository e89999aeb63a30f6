import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVE_OPTIONS } from '../config/serve-options.js';
import { envOf, flagOf } from '../config/option-table.js';
import { loadConfig } from '../config/load-config.js';
import { parseFlags } from './parse-flags.js';
import { renderHelp } from './help.js';

describe('parseFlags', () => {
  test('every flag maps to its option key; values stay strings for the loader to check', () => {
    // prettier-ignore
    const parsed = parseFlags(SERVE_OPTIONS, [
      '--model', 'model.onnx',
      '--model-sha256', 'ab'.repeat(32),
      '--labels', 'labels.txt',
      '--name', 'resnet',
      '--config', 'model.json',
      '--host', '127.0.0.1',
      '--port', '8080',
      '--top-k', '3',
      '--workers', '2',
      '--threads-per-worker', '4',
      '--max-queue-size', '0',
      '--max-body-bytes', '1024',
      '--max-image-pixels', '100',
      '--max-tensor-elements', '5000',
      '--cache-dir', '/cache',
      '--zoo-base-url', 'http://mirror/',
      '--verbose',
    ]);
    assert.deepEqual(parsed, {
      values: {
        model: 'model.onnx',
        modelSha256: 'ab'.repeat(32),
        labels: 'labels.txt',
        name: 'resnet',
        config: 'model.json',
        host: '127.0.0.1',
        port: '8080',
        topK: '3',
        workers: '2',
        threadsPerWorker: '4',
        maxQueueSize: '0',
        maxBodyBytes: '1024',
        maxImagePixels: '100',
        maxTensorElements: '5000',
        cacheDir: '/cache',
        zooBaseUrl: 'http://mirror/',
        verbose: true,
      },
      help: false,
      configFile: undefined,
    });
  });

  test('no arguments: no values, no help', () => {
    assert.deepEqual(parseFlags(SERVE_OPTIONS, []), { values: {}, help: false, configFile: undefined });
  });

  test('short flags -p and -v, and --flag=value', () => {
    assert.deepEqual(parseFlags(SERVE_OPTIONS, ['-p', '8080', '-v']).values, { port: '8080', verbose: true });
    assert.deepEqual(parseFlags(SERVE_OPTIONS, ['--top-k=7', '--host=::']).values, { topK: '7', host: '::' });
  });

  test('--config-file is returned apart from the option values', () => {
    const parsed = parseFlags(SERVE_OPTIONS, ['--config-file', 'skiff.json', '--port', '1']);
    assert.equal(parsed.configFile, 'skiff.json');
    assert.deepEqual(parsed.values, { port: '1' });
  });

  test('--help and -h are detected', () => {
    assert.equal(parseFlags(SERVE_OPTIONS, ['--help']).help, true);
    assert.equal(parseFlags(SERVE_OPTIONS, ['--port', '1', '-h']).help, true);
  });

  const rejected: readonly [string, readonly string[], string][] = [
    ['an unknown flag', ['--prot', '8080'], "Unknown option '--prot'; see --help"],
    ['an unknown short flag', ['-x'], "Unknown option '-x'; see --help"],
    ['camelCase instead of kebab-case', ['--topK', '3'], "Unknown option '--topK'; see --help"],
    [
      'a positional argument',
      ['serve.onnx'],
      "Unexpected argument 'serve.onnx'. This command does not take positional arguments; see --help",
    ],
    ['a missing value', ['--port'], "Option '-p, --port <value>' argument missing; see --help"],
    [
      'a value for a boolean flag',
      ['--verbose=false'],
      "Option '-v, --verbose' does not take an argument; see --help",
    ],
  ];
  for (const [title, argv, message] of rejected) {
    test(`${title} is SKIFF_CONFIG_INVALID pointing at --help`, () => {
      assert.throws(() => parseFlags(SERVE_OPTIONS, argv), {
        name: 'SkiffError',
        code: 'SKIFF_CONFIG_INVALID',
        message,
      });
    });
  }

  test('parsed flags load into typed values, and a bad one is reported as the flag', () => {
    const config = loadConfig(SERVE_OPTIONS, {
      flags: parseFlags(SERVE_OPTIONS, ['-p', '8080', '--verbose']).values,
      env: {},
    });
    assert.deepEqual([config.port, config.verbose], [8080, true]);
    assert.throws(
      () =>
        loadConfig(SERVE_OPTIONS, { flags: parseFlags(SERVE_OPTIONS, ['--top-k', 'five']).values, env: {} }),
      {
        code: 'SKIFF_CONFIG_INVALID',
        message: 'option --top-k: expected a whole number, got "five"',
      },
    );
  });
});

describe('renderHelp', () => {
  const help = renderHelp(
    'skiff serve [options]',
    'Serve a model.',
    SERVE_OPTIONS,
    'Examples:\n  skiff serve',
  );
  const lines = help.split('\n');

  test('starts with usage and summary and ends with the footer', () => {
    assert.ok(
      help.startsWith('Usage: skiff serve [options]\n\nServe a model.\n\nOptions:\n'),
      help.slice(0, 80),
    );
    assert.ok(help.endsWith('\n\nExamples:\n  skiff serve\n'));
  });

  test('lists every option: flag with its placeholder, description, env var, file key and default', () => {
    for (const option of SERVE_OPTIONS) {
      const plain = flagOf(option);
      const flag =
        option.type === 'boolean' && option.defaultLabel === 'true' ? plain.replace(/^--/, '--[no-]') : plain;
      const at = lines.findIndex(
        (line) => line.includes(` ${flag} `) || line.endsWith(` ${flag}`) || line.includes(`, ${flag}`),
      );
      assert.ok(at >= 0, `no line for ${flag}`);
      const first = lines[at] ?? '';
      const second = lines[at + 1] ?? '';
      assert.ok(first.includes(option.description), `${flag}: description missing in "${first}"`);
      if (option.type !== 'boolean') {
        const placeholder = 'placeholder' in option ? option.placeholder : option.type;
        assert.ok(
          first.includes(`${flag} <${placeholder}>`),
          `${flag}: placeholder <${placeholder}> missing in "${first}"`,
        );
      }
      assert.equal(
        second.trim(),
        `env ${envOf(option)}, file key ${option.key}, default ${option.defaultLabel}`,
      );
    }
  });

  test('exact rows for a flag with a short form, a boolean, and a placeholder', () => {
    assert.ok(
      lines.some((line) => /^ {2}-p, --port <integer> +HTTP port \(0 picks a free one\)$/.test(line)),
    );
    assert.ok(
      lines.some((line) =>
        /^ {2}-v, --verbose +debug logs, and stack traces for start-up errors$/.test(line),
      ),
    );
    assert.ok(lines.some((line) => /^ {6}--model <path\|url\|name> +ONNX model: /.test(line)));
    assert.ok(help.includes('env SKIFF_PORT, file key port, default 5000'));
    assert.ok(
      help.includes(
        'env SKIFF_MODEL_SHA256, file key modelSha256, default none (zoo models carry their own)',
      ),
    );
  });

  test('lists --config-file and -h, --help as well', () => {
    assert.ok(
      lines.some((line) =>
        /^ {6}--config-file <file> +project file \(default: \.\/skiff\.yaml or \.\/skiff\.json if present\)$/.test(
          line,
        ),
      ),
    );
    assert.ok(lines.some((line) => /^ {2}-h, --help +show this help$/.test(line)));
  });

  test('descriptions start in one column', () => {
    const columns = new Set(
      SERVE_OPTIONS.map((option) =>
        (lines.find((line) => line.includes(option.description)) ?? '').indexOf(option.description),
      ),
    );
    columns.add((lines.find((line) => line.includes('show this help')) ?? '').indexOf('show this help'));
    assert.equal(columns.size, 1, `columns: ${[...columns].join(', ')}`);
  });

  test('every flag the help shows is one the parser accepts', () => {
    for (const option of SERVE_OPTIONS) {
      const argv = option.type === 'boolean' ? [flagOf(option)] : [flagOf(option), '1'];
      assert.deepEqual(Object.keys(parseFlags(SERVE_OPTIONS, argv).values), [option.key]);
      if ('short' in option) {
        const short = option.type === 'boolean' ? [`-${option.short}`] : [`-${option.short}`, '1'];
        assert.deepEqual(Object.keys(parseFlags(SERVE_OPTIONS, short).values), [option.key]);
      }
    }
  });
});

test('--no-<flag> turns a boolean option off; it is not accepted for other options', () => {
  assert.equal(parseFlags(SERVE_OPTIONS, ['--no-access-log']).values.accessLog, false);
  assert.equal(parseFlags(SERVE_OPTIONS, ['--access-log']).values.accessLog, true);
  assert.throws(() => parseFlags(SERVE_OPTIONS, ['--no-port']), { code: 'SKIFF_CONFIG_INVALID' });
});
