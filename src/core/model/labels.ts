import { SkiffError } from '../errors.js';

/** Class names in class-index order: `short` as the seed shows them (`golden_retriever`), `full` with synonyms. */
export interface Labels {
  readonly short: readonly string[];
  readonly full: readonly string[];
}

const SYNSET_LINE = /^n\d{8}\s+(.+)$/;

/** Keras' short name is the first synonym with spaces joined by underscores; this matches all 1000 of theirs. */
export function shortLabel(full: string): string {
  const first = full.split(',')[0]?.trim() ?? '';
  return first.replace(/\s+/g, '_');
}

/**
 * Parses a labels file: one label per line, plain (`golden retriever`, `tench, Tinca tinca`) or synset
 * (`n01440764 tench, Tinca tinca`); or JSON, either an array of names or a Keras class index
 * (`{"0": ["n01440764", "tench"]}`). Blank trailing lines are ignored; blank lines inside are an error,
 * since they would shift every later class index.
 */
export function parseLabels(text: string, source: string): Labels {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed === '') throw new SkiffError('SKIFF_LABELS_INVALID', `labels file ${source} is empty`);
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJsonLabels(trimmed, source);
  const lines = trimmed.split(/\r?\n/);
  const full = lines.map((line, index) => {
    const value = line.trim();
    if (value === '') {
      throw new SkiffError(
        'SKIFF_LABELS_INVALID',
        `labels file ${source} has a blank line at line ${index + 1}; each line must name one class`,
      );
    }
    return SYNSET_LINE.exec(value)?.[1]?.trim() ?? value;
  });
  return { full, short: full.map(shortLabel) };
}

export function labelsFromList(names: readonly string[]): Labels {
  return { full: [...names], short: names.map(shortLabel) };
}

function parseJsonLabels(text: string, source: string): Labels {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new SkiffError('SKIFF_LABELS_INVALID', `labels file ${source} is not valid JSON`, { cause: error });
  }
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) {
    return labelsFromList(value);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const full: string[] = [];
    const short: string[] = [];
    for (const [key, entry] of entries) {
      const index = Number(key);
      const name: unknown = Array.isArray(entry) ? (entry as unknown[])[entry.length - 1] : entry;
      if (
        !/^\d+$/.test(key) ||
        index >= entries.length ||
        full[index] !== undefined ||
        typeof name !== 'string'
      ) {
        throw new SkiffError(
          'SKIFF_LABELS_INVALID',
          `labels file ${source}: expected {"<index>": ["<wnid>", "<name>"]} with indices 0..${entries.length - 1}`,
        );
      }
      full[index] = name.replace(/_/g, ' ');
      short[index] = name;
    }
    return { full, short };
  }
  throw new SkiffError(
    'SKIFF_LABELS_INVALID',
    `labels file ${source}: expected an array of names or a class index`,
  );
}
