/**
 * A request message kept serialized: grpc-js hands it to the handler undecoded, so that the handler can
 * count what decoding would build (model-infer-scan.ts) before paying for it.
 */
export class RawMessage {
  constructor(readonly bytes: Buffer) {}
}
