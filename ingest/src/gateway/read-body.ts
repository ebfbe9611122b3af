/**
 * Reads a request body, decompressing gzip/deflate as it streams, and stops at `maxBytes` counted AFTER
 * decompression (the OTLP/HTTP rule; a small gzip bomb must not expand into memory). The request itself is
 * never destroyed here, so the caller can still answer 413/400 on the same socket.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { IngestError, errorMessage } from '../errors.js';

export interface RequestBody {
  body: Buffer;
  /** Bytes as received, before decompression. */
  wireBytes: number;
}

/** The Content-Encoding values accepted; anything else is a 415. */
export function decoderFor(contentEncoding: string | undefined): Transform | null | undefined {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return null;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  return undefined;
}

export function readBody(
  req: IncomingMessage,
  decoder: Transform | null,
  maxBytes: number,
): Promise<RequestBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let wireBytes = 0;
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      // Stop buffering; the caller answers with `Connection: close` so the rest is never read.
      req.pause();
      reject(error);
    };
    const source = decoder ?? req;
    req.on('data', (chunk: Buffer) => {
      wireBytes += chunk.length;
    });
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > maxBytes) {
        fail(
          new IngestError(
            'PAYLOAD_TOO_LARGE',
            `request body exceeds ${maxBytes} bytes${decoder ? ' after decompression' : ''}`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    source.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ body: Buffer.concat(chunks, total), wireBytes });
    });
    source.on('error', (error: Error) => {
      fail(
        decoder
          ? new IngestError('OTLP_DECODE_FAILED', `cannot decompress the body: ${errorMessage(error)}`, {
              cause: error,
            })
          : error,
      );
    });
    req.on('close', () => {
      if (!req.complete) fail(new Error('client closed the connection before the body was complete'));
    });
    if (decoder) {
      req.on('error', fail);
      req.pipe(decoder);
    }
  });
}
