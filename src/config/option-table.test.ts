import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { ConfigOf, OptionTable } from './option-table.js';
import { loadConfig } from './load-config.js';

const TABLE = [
  { key: 'port', type: 'integer', description: '', defaultLabel: '5000', schema: z.number().default(5000) },
  { key: 'name', type: 'string', description: '', defaultLabel: 'none', schema: z.string().optional() },
  {
    key: 'sizes',
    type: 'string',
    description: '',
    defaultLabel: '1,2',
    schema: z
      .string()
      .default('1,2')
      .transform((text) => text.split(',').map(Number)),
  },
] as const satisfies OptionTable;

// The usual exact-equality test: plain assignability would not tell `readonly` or `?` apart.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;

test('ConfigOf types each key by what its schema returns, optional where there is no default', () => {
  const exact: Equals<
    ConfigOf<typeof TABLE>,
    { readonly port: number; readonly name?: string | undefined; readonly sizes: number[] }
  > = true;
  assert.equal(exact, true);
});

test('loadConfig returns that type: defaults set, transforms applied, unset options absent', () => {
  const config = loadConfig(TABLE, { flags: { name: 'dogs' }, env: { SKIFF_PORT: '80' } });
  const port: number = config.port;
  const name: string | undefined = config.name;
  // @ts-expect-error a key the table does not have is a compile error, not `undefined`
  assert.equal(config.missing, undefined);
  assert.deepEqual([port, name, config.sizes], [80, 'dogs', [1, 2]]);
  assert.deepEqual(Object.keys(loadConfig(TABLE, { flags: {}, env: {} })), ['port', 'sizes']);
  assert.ok(Object.isFrozen(config));
});
