// The executor registry as a user administers it (SPEC §7 `executors add|list|check|remove`, §10
// `/api/executors`): one implementation for every front end. What a front end may register or probe is an
// ExecutorPolicy argument: the CLI acts for the operator on their own machine (OPERATOR_EXECUTOR_POLICY), a
// server for whoever reaches it (serverExecutorPolicy, docs/operations.md "Security model").
import { type ValidationIssue, WattswarmError } from "../errors.js";
import { createExecutor, validateExecutorConfig } from "../executors/registry.js";
import { secretEnvPolicy, secretEnvProblems } from "../executors/secrets.js";
import { literalTargetProblems, resolvedTargetProblem } from "../executors/targets.js";
import type { ExecutorCheck } from "../executors/types.js";
import { ID_CHARSET, isValidId, LIMITS } from "../spec/schema.js";
import type { JsonObject, JsonValue } from "../spec/types.js";
import type { Store } from "../store/port.js";
import type { ExecutorInput, ExecutorRecord } from "../store/types.js";
import type { ExecutorKind } from "../vocab.js";

/** The part of the store these operations use. */
export type ExecutorRegistry = Pick<
  Store,
  "listExecutors" | "getExecutor" | "upsertExecutor" | "removeExecutor"
>;

export interface ExecutorPolicy {
  /** `true`: any `command` executor; a list: only these programs as argv[0]; `false`: none. */
  allowCommand: boolean | readonly string[];
  /**
   * `null`: any env-var name but WattSwarm's own secrets (validateExecutorConfig refuses those for everyone).
   * A list: only WATTSWARM_SECRET_* and these names (secrets.ts, secretEnvPolicy).
   */
  secretEnv: readonly string[] | null;
  /** Refuse link-local and cloud metadata targets: as written when registering, also resolved when probing. */
  refuseMetadataTargets: boolean;
}

/** `wattswarm executors …`: the operator registers what they like on their own machine. */
export const OPERATOR_EXECUTOR_POLICY: ExecutorPolicy = {
  allowCommand: true,
  secretEnv: null,
  refuseMetadataTargets: false,
};

/**
 * A server's (`serve`): a `command` executor runs a program on every worker, so it needs the operator's opt-in
 * (`--allow-command-executors`, `--allow-command <program>`); secrets only from the names the operator allows
 * (`--secret-env`); no link-local or metadata targets.
 */
export function serverExecutorPolicy(options: {
  allowCommand?: boolean | readonly string[] | undefined;
  secretEnv?: readonly string[] | undefined;
}): ExecutorPolicy {
  return {
    allowCommand: options.allowCommand ?? false,
    secretEnv: options.secretEnv ?? [],
    refuseMetadataTargets: true,
  };
}

/**
 * A refusal of the policy that is neither invalid input (USAGE) nor a missing executor: a command executor the
 * policy does not allow (FORBIDDEN; the API answers 403) or a target it may not probe (BAD_REQUEST; 400).
 */
export class ExecutorPolicyError extends Error {
  constructor(
    readonly code: "FORBIDDEN" | "BAD_REQUEST",
    message: string,
  ) {
    super(message);
    this.name = "ExecutorPolicyError";
  }
}

export interface RegisterExecutorInput {
  name: string;
  kind: string;
  config: JsonValue;
}

export interface RegisterOutcome {
  record: ExecutorRecord;
  /** False when an executor of that name was replaced. */
  created: boolean;
}

export type CheckOutcome = { name: string; kind: ExecutorKind } & ExecutorCheck;

/** How long `check` waits for the executor's probe. */
export const CHECK_TIMEOUT_MS = 10_000;

function notRegistered(name: string): WattswarmError {
  return new WattswarmError("EXECUTOR_NOT_FOUND", `executor "${name}" is not registered`);
}

/** Refuses a name outside the id charset or longer than 128 characters (USAGE). */
export function assertExecutorName(name: string): void {
  if (!isValidId(name))
    throw new WattswarmError(
      "USAGE",
      `executor name "${name}": 1–${LIMITS.maxIdLength} chars of ${ID_CHARSET}`,
    );
}

/** `key: rule` lines (validateExecutorConfig's style) as issues with paths under `config`. */
function configIssues(problems: readonly string[]): ValidationIssue[] {
  return problems.map((p) => {
    const m = /^([^:\s]+): (.*)$/.exec(p);
    if (!m) return { path: "config", message: p };
    const key = m[1] ?? "";
    return { path: key === "kind" || key === "config" ? key : `config.${key}`, message: m[2] ?? p };
  });
}

function invalid(name: string, problems: readonly string[]): WattswarmError {
  return new WattswarmError("USAGE", `executor "${name}": ${problems.join("; ")}`, configIssues(problems));
}

function enforceCommandPolicy(
  config: JsonObject,
  allowed: ExecutorPolicy["allowCommand"],
  name: string,
): void {
  if (allowed === true) return;
  if (allowed === false)
    throw new ExecutorPolicyError(
      "FORBIDDEN",
      `executor "${name}": command executors run programs on every worker, so this server does not accept them ` +
        "(register them with `wattswarm executors add … --command` on the worker's machine, or start serve with " +
        "--allow-command-executors or --allow-command <program>)",
    );
  const program = Array.isArray(config.argv) ? config.argv[0] : undefined;
  if (!(typeof program === "string" && allowed.includes(program)))
    throw new ExecutorPolicyError(
      "FORBIDDEN",
      `executor "${name}": program ${JSON.stringify(program)} is not one this server allows ` +
        `(--allow-command: ${allowed.map((p) => JSON.stringify(p)).join(", ")})`,
    );
}

/**
 * The entry to store, or the first refusal, checking in order: the name, the config (validateExecutorConfig),
 * whether the policy allows a command executor, its secret names and its targets. Invalid input and refused
 * secrets or targets are USAGE errors whose details place each problem under `config`. Needs no store, so a
 * front end can refuse before it opens one.
 */
export function admitExecutor(input: RegisterExecutorInput, policy: ExecutorPolicy): ExecutorInput {
  const { name } = input;
  assertExecutorName(name);
  const problems = validateExecutorConfig(input.kind, input.config);
  if (problems.length > 0) throw invalid(name, problems);
  const kind = input.kind as ExecutorKind;
  const config = input.config as JsonObject;
  if (kind === "command") enforceCommandPolicy(config, policy.allowCommand, name);
  const refused = [
    ...(policy.secretEnv === null ? [] : secretEnvProblems(kind, config, secretEnvPolicy(policy.secretEnv))),
    ...(policy.refuseMetadataTargets ? literalTargetProblems(kind, config) : []),
  ];
  if (refused.length > 0) throw invalid(name, refused);
  return { name, kind, config };
}

/** Registers or replaces an executor that admitExecutor admits under `policy`. */
export async function registerExecutor(
  store: ExecutorRegistry,
  input: RegisterExecutorInput,
  policy: ExecutorPolicy,
): Promise<RegisterOutcome> {
  const entry = admitExecutor(input, policy);
  const created = (await store.getExecutor(entry.name)) === null;
  const record = await store.upsertExecutor(entry);
  return { record, created };
}

/** Registered executors, by name. */
export function listExecutors(store: ExecutorRegistry): Promise<ExecutorRecord[]> {
  return store.listExecutors();
}

/** Probes an executor's health and capabilities; `ok` is false when it is unhealthy. */
export async function checkExecutor(
  store: ExecutorRegistry,
  name: string,
  policy: ExecutorPolicy,
): Promise<CheckOutcome> {
  const record = await store.getExecutor(name);
  if (!record) throw notRegistered(name);
  if (policy.refuseMetadataTargets) {
    const refused = await resolvedTargetProblem(record.kind, record.config);
    if (refused !== null)
      throw new ExecutorPolicyError("BAD_REQUEST", `executor "${record.name}": ${refused}`);
  }
  const check = await createExecutor(record).check(AbortSignal.timeout(CHECK_TIMEOUT_MS));
  return { name: record.name, kind: record.kind, ...check };
}

/** Removes an executor (a removed default stays removed). */
export async function removeExecutor(
  store: ExecutorRegistry,
  name: string,
): Promise<{ ok: true; name: string; removed: true }> {
  if (!(await store.removeExecutor(name))) throw notRegistered(name);
  return { ok: true, name, removed: true };
}
