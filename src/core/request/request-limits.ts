/**
 * What one request may make the server hold or do, checked before the cost is paid. Every value comes from
 * an option of `skiff serve` (docs/config.md names each one with its default); the adapters enforce the
 * wire-level ones while decoding, the core the rest.
 */
export interface RequestLimits {
  /** Decoded images may have at most this many pixels (width x height); checked from the header. */
  readonly maxImagePixels: number;
  /** Pixels of all images being decoded at one moment, server-wide; beyond it a request gets a fast 503. */
  readonly maxDecodePixels: number;
  /** Largest top_k a request may ask for. */
  readonly maxTopK: number;
  /** Most elements one input tensor may have; checked from its shape before its data is converted. */
  readonly maxTensorElements: number;
  /** Most elements of all the inputs of one request together. */
  readonly maxRequestElements: number;
  /** Most BYTES (string) elements in one request: each is an object of its own once decoded. */
  readonly maxBytesElements: number;
  /** Largest encoded response body; estimated from the outputs before they are encoded. */
  readonly maxResponseBytes: number;
  /** Most instances in one KServe V1 request. */
  readonly maxInstances: number;
  /** Deepest nesting of a JSON body. */
  readonly maxJsonDepth: number;
}
