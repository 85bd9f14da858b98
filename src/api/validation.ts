// Request validation: the route schemas, compiled by ajv. Two instances because the parts of a
// request differ: a query string or path is text, so "limit=10" must become the number 10
// (coercion), while a JSON body already has types, and coercing "12" to 12 or "many" to
// ["many"] would accept wrong types silently. Neither drops unknown fields (they are errors) and
// both report every problem at once. Formats (date-time...) come from ajv-formats, as in
// fastify's default compiler.
import { Ajv, type Options } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

// ajv-formats is CommonJS (module.exports is the plugin); its typings describe an ESM default.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const common: Options = {
  removeAdditional: false,
  useDefaults: true,
  allErrors: true,
  // fastify's route schemas carry OpenAPI keywords (description, tags, example...).
  strict: false,
};

function withFormats(options: Options): Ajv {
  const ajv = new Ajv({ ...common, ...options });
  addFormats(ajv);
  return ajv;
}

export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodies = withFormats({ coerceTypes: false });
  const text = withFormats({ coerceTypes: "array" });
  return ({ schema, httpPart }) => (httpPart === "body" ? bodies : text).compile(schema as object);
}
