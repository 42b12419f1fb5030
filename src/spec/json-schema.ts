// The JSON Schema (draft 2020-12) of the run spec as a user writes it, for editors and other languages.
// It is generated from the zod schema so the two cannot drift; the rules JSON Schema cannot express
// (unique agent ids, quorum ≤ number of agents, chain order) are stated in descriptions.

import { z } from "zod";
import { RunSpecSchema } from "./schema.js";

export const RUN_SPEC_SCHEMA_ID = "urn:wattswarm:run-spec";

type JsonSchemaNode = Record<string, unknown>;

function node(root: JsonSchemaNode, ...path: string[]): JsonSchemaNode | undefined {
  let cur: unknown = root;
  for (const key of path) cur = (cur as JsonSchemaNode | undefined)?.[key];
  return cur as JsonSchemaNode | undefined;
}

export function runSpecJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunSpecSchema, {
    target: "draft-2020-12",
    io: "input",
    override: (ctx) => {
      // zod writes `default: {}` for sections whose defaults come from their fields; show the resolved values.
      if (ctx.zodSchema._zod.def.type === "prefault") {
        ctx.jsonSchema.default = z.parse(ctx.zodSchema, undefined);
      }
    },
  }) as JsonSchemaNode;

  const props = node(schema, "properties");
  const aggregation = node(schema, "properties", "aggregation", "properties");
  for (const policy of ["tie_policy", "null_policy"]) {
    for (const list of ["enabled_on", "chain"]) {
      const n = node(aggregation ?? {}, policy, "properties", list);
      if (n) n.uniqueItems = true;
    }
  }
  const agents = node(props ?? {}, "agents");
  if (agents) agents.description = "1–1000 agents, one step each; agent_id values are unique within the run.";
  const quorum = node(aggregation ?? {}, "quorum");
  if (quorum)
    quorum.description = "1 ≤ quorum ≤ number of agents; null = none (0 is read as none, with a warning).";

  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: RUN_SPEC_SCHEMA_ID,
    ...rest,
    description:
      "A WattSwarm run: one task fanned out to agents, their conclusions aggregated under a declared policy. " +
      "Limits: file ≤ 1 MiB, any string ≤ 64 KiB, nesting ≤ 32 levels.",
  };
}
