// multipart/form-data bodies, as dcmanager takes them for POST and PATCH /v1.0/subclouds: text fields and small
// files (bootstrap_values, install_values, deploy_config), read whole into strings. A malformed or oversized body
// is a 400 (413 when too large) that names the problem; nothing is decided before the whole body is read.
import busboy from 'busboy';
import type { Request } from 'express';
import { ValidationError } from '../../domain/core/errors.js';
import { HttpError } from './errors.js';

export interface MultipartBody {
  /** Text parts, by name (the last one wins, as in the reference's decoder). */
  fields: Record<string, string>;
  /** File parts, by name: the file name the client sent and the content as UTF-8 text. */
  files: Record<string, { filename: string; content: string }>;
}

export interface MultipartLimits {
  fileBytes: number;
  fieldBytes: number;
  parts: number;
}

export const MULTIPART_LIMITS: MultipartLimits = { fileBytes: 4 * 1024 * 1024, fieldBytes: 1024 * 1024, parts: 64 };

export function isMultipart(req: Request): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

export function parseMultipart(req: Request, limits: MultipartLimits = MULTIPART_LIMITS): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    if (!isMultipart(req)) {
      reject(new ValidationError('The request body must be multipart/form-data'));
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: limits.fileBytes, fieldSize: limits.fieldBytes, parts: limits.parts },
        defParamCharset: 'utf8',
      });
    } catch (error) {
      reject(new ValidationError(`Malformed multipart body: ${(error as Error).message}`));
      return;
    }
    const body: MultipartBody = { fields: {}, files: {} };
    let failure: Error | undefined;
    const tooLarge = (message: string, field?: string) => {
      failure ??= new HttpError(413, message, field);
    };
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) tooLarge(`Form field ${name} is larger than ${limits.fieldBytes} bytes`, name);
      body.fields[name] = value;
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => tooLarge(`File ${name} is larger than ${limits.fileBytes} bytes`, name));
      stream.on('close', () => {
        body.files[name] = { filename: info.filename ?? name, content: Buffer.concat(chunks).toString('utf8') };
      });
    });
    parser.on('partsLimit', () => tooLarge(`Too many parts in the multipart body (at most ${limits.parts})`));
    parser.on('error', (error: Error) => reject(new ValidationError(`Malformed multipart body: ${error.message}`)));
    parser.on('close', () => (failure ? reject(failure) : resolve(body)));
    req.pipe(parser);
  });
}
