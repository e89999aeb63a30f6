import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IMAGENET_LABELS, LABELS_1001, testImage } from '../../../test/helpers/paths.js';
import { labelsFromList, parseLabels, shortLabel } from './labels.js';

/** Lines of a file that ends with one newline. */
function lines(text: string): string[] {
  assert.ok(text.endsWith('\n'), 'fixture file ends with a newline');
  return text.slice(0, -1).split('\n');
}

describe('shortLabel', () => {
  test('takes the first synonym and joins its words with underscores', () => {
    assert.equal(shortLabel('great white shark, white shark, man-eater'), 'great_white_shark');
    assert.equal(shortLabel('  golden retriever  '), 'golden_retriever');
    assert.equal(shortLabel('tench'), 'tench');
    assert.equal(shortLabel('already_short'), 'already_short');
  });
});

describe('parseLabels', () => {
  test('synset lines: the WordNet id is dropped, the full label keeps its synonyms', () => {
    const labels = parseLabels(
      'n01440764 tench, Tinca tinca\nn01484850 great white shark, white shark, man-eater\nn02099601 golden retriever\n',
      'synset.txt',
    );
    assert.deepEqual(labels.full, [
      'tench, Tinca tinca',
      'great white shark, white shark, man-eater',
      'golden retriever',
    ]);
    assert.deepEqual(labels.short, ['tench', 'great_white_shark', 'golden_retriever']);
  });

  test('plain lines with synonyms', () => {
    const labels = parseLabels(
      'tench, Tinca tinca\ngoldfish, Carassius auratus\ntoilet tissue, toilet paper, bathroom tissue\n',
      'l.txt',
    );
    assert.deepEqual(labels.full, [
      'tench, Tinca tinca',
      'goldfish, Carassius auratus',
      'toilet tissue, toilet paper, bathroom tissue',
    ]);
    assert.deepEqual(labels.short, ['tench', 'goldfish', 'toilet_tissue']);
  });

  test('already-short names pass through unchanged, and surrounding spaces on a line are dropped', () => {
    const labels = parseLabels('golden_retriever\n  tabby  \nEgyptian_cat', 'l.txt');
    assert.deepEqual(labels.full, ['golden_retriever', 'tabby', 'Egyptian_cat']);
    assert.deepEqual(labels.short, ['golden_retriever', 'tabby', 'Egyptian_cat']);
  });

  test('a line that only looks like the start of a synset line is kept whole', () => {
    // The id needs exactly 8 digits and a label after it.
    const labels = parseLabels('n0144076 tench\nn01440764\n', 'l.txt');
    assert.deepEqual(labels.full, ['n0144076 tench', 'n01440764']);
  });

  test('a Keras class index is read in index order, whatever order its keys are written in', () => {
    const labels = parseLabels(
      '{"1": ["n01443537", "goldfish"], "0": ["n01440764", "tench"], "2": ["n01484850", "great_white_shark"]}',
      'imagenet_class_index.json',
    );
    assert.deepEqual(labels.short, ['tench', 'goldfish', 'great_white_shark']);
    assert.deepEqual(labels.full, ['tench', 'goldfish', 'great white shark']);
  });

  test('a class index whose entries are bare names', () => {
    const labels = parseLabels('{"0": "tench", "1": "golden_retriever"}', 'index.json');
    assert.deepEqual(labels.short, ['tench', 'golden_retriever']);
    assert.deepEqual(labels.full, ['tench', 'golden retriever']);
  });

  test('a JSON array of names', () => {
    const labels = parseLabels('  ["tench, Tinca tinca", "golden retriever"]\n', 'labels.json');
    assert.deepEqual(labels.full, ['tench, Tinca tinca', 'golden retriever']);
    assert.deepEqual(labels.short, ['tench', 'golden_retriever']);
  });

  test('a byte-order mark is ignored, for text and for JSON', () => {
    const text = parseLabels('\uFEFFn01440764 tench, Tinca tinca\nn01443537 goldfish\n', 'bom.txt');
    assert.deepEqual(text.full, ['tench, Tinca tinca', 'goldfish']);
    assert.deepEqual(text.short, ['tench', 'goldfish']);
    const json = parseLabels('\uFEFF["tench"]', 'bom.json');
    assert.deepEqual(json.full, ['tench']);
  });

  test('CRLF line ends leave no carriage return in any label', () => {
    const labels = parseLabels('n01440764 tench, Tinca tinca\r\ngolden retriever\r\n', 'crlf.txt');
    assert.deepEqual(labels.full, ['tench, Tinca tinca', 'golden retriever']);
    assert.deepEqual(labels.short, ['tench', 'golden_retriever']);
  });

  test('trailing blank lines (with or without spaces, LF or CRLF) are ignored', () => {
    assert.deepEqual(parseLabels('a\nb\n\n\n', 'l.txt').full, ['a', 'b']);
    assert.deepEqual(parseLabels('a\r\nb\r\n  \r\n\t\r\n', 'l.txt').full, ['a', 'b']);
  });

  test('a blank line inside the list is SKIFF_LABELS_INVALID naming the file and the line', () => {
    assert.throws(() => parseLabels('a\nb\n\nc\n', 'labels.txt'), {
      name: 'SkiffError',
      code: 'SKIFF_LABELS_INVALID',
      kind: 'invalid_argument',
      message: 'labels file labels.txt has a blank line at line 3; each line must name one class',
    });
    assert.throws(() => parseLabels('a\r\n   \r\nb\r\n', 'crlf.txt'), {
      code: 'SKIFF_LABELS_INVALID',
      message: 'labels file crlf.txt has a blank line at line 2; each line must name one class',
    });
  });

  test('an empty file (or only a BOM and white space) is SKIFF_LABELS_INVALID', () => {
    for (const text of ['', '\n\n', '\uFEFF  \r\n']) {
      assert.throws(() => parseLabels(text, 'empty.txt'), {
        code: 'SKIFF_LABELS_INVALID',
        message: 'labels file empty.txt is empty',
      });
    }
  });

  test('bad JSON is SKIFF_LABELS_INVALID with the parse error as its cause', () => {
    assert.throws(
      () => parseLabels('["tench", ', 'labels.json'),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal((error as { code?: unknown }).code, 'SKIFF_LABELS_INVALID');
        assert.equal(error.message, 'labels file labels.json is not valid JSON');
        assert.ok(error.cause instanceof SyntaxError);
        return true;
      },
    );
  });

  test('JSON of the wrong shape is SKIFF_LABELS_INVALID', () => {
    for (const text of ['[1, 2]', '["a", null]']) {
      assert.throws(() => parseLabels(text, 'l.json'), {
        code: 'SKIFF_LABELS_INVALID',
        message: 'labels file l.json: expected an array of names or a class index',
      });
    }
    // An index with a gap (no "1") would shift every later class.
    assert.throws(() => parseLabels('{"0": ["n1", "a"], "2": ["n2", "b"]}', 'i.json'), {
      code: 'SKIFF_LABELS_INVALID',
      message: 'labels file i.json: expected {"<index>": ["<wnid>", "<name>"]} with indices 0..1',
    });
    for (const text of ['{"a": ["n1", "x"]}', '{"-1": ["n1", "x"]}', '{"0": ["n1", 5]}']) {
      assert.throws(() => parseLabels(text, 'i.json'), {
        code: 'SKIFF_LABELS_INVALID',
        message: /with indices 0\.\.0$/,
      });
    }
  });

  test('a class index that gives one index twice ("0" and "00") is SKIFF_LABELS_INVALID', () => {
    assert.throws(() => parseLabels('{"0": ["n1", "a"], "00": ["n2", "b"], "2": ["n3", "c"]}', 'i.json'), {
      code: 'SKIFF_LABELS_INVALID',
    });
  });
});

describe('labelsFromList', () => {
  test('copies the names and derives the short labels', () => {
    const names = ['tench, Tinca tinca', 'golden retriever'];
    const labels = labelsFromList(names);
    assert.deepEqual(labels, {
      full: ['tench, Tinca tinca', 'golden retriever'],
      short: ['tench', 'golden_retriever'],
    });
    assert.notEqual(labels.full, names);
  });
});

describe('the committed ImageNet label files', () => {
  const text = readFileSync(IMAGENET_LABELS(), 'utf8');
  const imagenet = parseLabels(text, 'labels.txt');

  test('models/mobilenetv2-int8/labels.txt: 1000 plain lines, each full label kept with its synonyms', () => {
    assert.equal(imagenet.full.length, 1000);
    assert.deepEqual(imagenet.full, lines(text));
    assert.equal(imagenet.full[0], 'tench, Tinca tinca');
    assert.equal(imagenet.full[207], 'golden retriever');
    assert.equal(imagenet.full[934], 'hotdog, hot dog, red hot');
  });

  test('short labels: the Keras names at known indices, including the two names Keras repeats', () => {
    assert.equal(imagenet.short.length, 1000);
    assert.equal(imagenet.short[0], 'tench');
    assert.equal(imagenet.short[207], 'golden_retriever');
    assert.equal(imagenet.short[258], 'Samoyed');
    assert.equal(imagenet.short[285], 'Egyptian_cat');
    assert.equal(imagenet.short[934], 'hotdog');
    assert.equal(imagenet.short[999], 'toilet_tissue');
    for (const name of imagenet.short) assert.match(name, /^[^\s,]+$/);
    assert.deepEqual(
      imagenet.short.flatMap((name, index) =>
        name === 'crane' || name === 'maillot' ? [`${index} ${name}`] : [],
      ),
      ['134 crane', '517 crane', '638 maillot', '639 maillot'],
    );
    assert.equal(new Set(imagenet.short).size, 998);
  });

  test('short labels equal every class name in expected_top5.json (written down from another source)', () => {
    const table = JSON.parse(readFileSync(testImage('expected_top5.json'), 'utf8')) as {
      results: Record<string, Record<string, [number, string, number][]>>;
    };
    const named = Object.values(table.results).flatMap((photos) =>
      Object.values(photos).flatMap((top5) => top5.map(([index, name]) => ({ index, name }))),
    );
    assert.ok(new Set(named.map((row) => row.index)).size >= 30, 'enough distinct classes to mean something');
    const mismatches = named.filter((row) => imagenet.short[row.index] !== row.name);
    assert.deepEqual(mismatches, []);
  });

  test('imagenet_labels_1001_with_background.txt has "background" then the same 1000 classes', () => {
    const withBackground = parseLabels(readFileSync(LABELS_1001(), 'utf8'), 'bg.txt');
    assert.equal(withBackground.full.length, 1001);
    assert.equal(withBackground.full[0], 'background');
    assert.deepEqual(withBackground.full.slice(1), imagenet.full);
    assert.deepEqual(withBackground.short.slice(1), imagenet.short);
  });

  test('the same 1000 classes as synset lines ("<WordNet id> <label>") parse to the same labels', () => {
    // synset_words.txt itself is not committed (test/assets/PROVENANCE.md); the ids here only need its format.
    const synset = lines(text)
      .map((line, index) => `n${String(index).padStart(8, '0')} ${line}\n`)
      .join('');
    assert.deepEqual(parseLabels(synset, 'synset_words.txt'), imagenet);
    const real = parseLabels(
      'n01440764 tench, Tinca tinca\nn02099601 golden retriever\nn07697537 hotdog, hot dog, red hot\n',
      'synset.txt',
    );
    assert.deepEqual(real.full, [imagenet.full[0], imagenet.full[207], imagenet.full[934]]);
    assert.deepEqual(real.short, ['tench', 'golden_retriever', 'hotdog']);
  });

  test('a Keras class index of the same 1000 names, keys in any order, gives the same short labels', () => {
    // Written out by hand: JSON.stringify of an object puts integer keys in ascending order whatever we do.
    const index = `{${imagenet.short
      .map((name, i) => `"${String(i)}": ${JSON.stringify([`n${String(i).padStart(8, '0')}`, name])}`)
      .reverse()
      .join(', ')}}`;
    assert.ok(index.startsWith('{"999": ["n00000999","toilet_tissue"], "998": '));
    assert.deepEqual(parseLabels(index, 'imagenet_class_index.json').short, imagenet.short);
  });
});
