import { randomBytes } from 'node:crypto';

/** A multipart/form-data body with one file field, as `curl -F image=@dog.jpg` sends it. */
export function multipartBody(
  field: string,
  fileName: string,
  type: string,
  bytes: Uint8Array,
): { body: Buffer; contentType: string } {
  const boundary = `----skiffbench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, bytes, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}
