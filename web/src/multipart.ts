// A form with a file, posted without JavaScript (multipart/form-data), read as a stream. The CSRF
// hook cannot see a multipart body, so routes marked `multipartCsrf` check the token here: it must
// be the form's first field (form() puts it there) and is checked before any file is read.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A multipart post here passes the CSRF hook: the route checks it with readFormFile. */
    multipartCsrf?: boolean;
  }
}

export const MULTIPART_CSRF = { multipartCsrf: true };

export const multipartCsrfRoute = (req: FastifyRequest) => req.isMultipart() && req.routeOptions.config.multipartCsrf === true;

/** Runs @fastify/csrf-protection's own check on a token read from a multipart field. */
function checkCsrf(app: FastifyInstance, req: FastifyRequest, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    req.body = { _csrf: token };
    app.csrfProtection(req, { send: reject } as unknown as FastifyReply, () => resolve());
  });
}

/**
 * Checks the CSRF field, then hands the first chosen file to `onFile` as a stream; other
 * fields are collected. `result` is undefined when no file was chosen.
 */
export async function readFormFile<T>(app: FastifyInstance, req: FastifyRequest, onFile: (file: Readable) => Promise<T>): Promise<{ fields: Record<string, string>; result?: T }> {
  const fields: Record<string, string> = {};
  let checked = false;
  let result: T | undefined;
  for await (const part of req.parts()) {
    if (!checked) {
      await checkCsrf(app, req, part.type === "field" && part.fieldname === "_csrf" ? String(part.value) : "");
      checked = true;
      if (part.type === "field") continue;
    }
    if (part.type === "field") fields[part.fieldname] = String(part.value);
    else if (part.filename !== "" && result === undefined) result = await onFile(part.file);
    else part.file.resume();
  }
  if (!checked) await checkCsrf(app, req, "");
  return { fields, result };
}
