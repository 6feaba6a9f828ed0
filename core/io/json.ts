/** JSON values in graph files: one schema and its type, shared by the file's parts. */
import { z } from 'zod';

/** Any JSON value. Written out because a recursive type cannot be inferred from its schema. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The schema of {@link JsonValue}. */
export const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);
