// Option value parsers shared by the command groups; a bad value is a usage error (exit 2).
import { InvalidArgumentError } from "commander";
import { RUN_STATUSES, type RunStatus } from "../vocab.js";

export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `expected an integer ≥ ${min}`
          : `expected an integer from ${min} to ${max}`,
      );
    }
    return n;
  };
}

export function numberOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return n;
  };
}

export function runStatusOption(value: string): RunStatus {
  const upper = value.toUpperCase();
  if (!(RUN_STATUSES as readonly string[]).includes(upper)) {
    throw new InvalidArgumentError(`expected one of ${RUN_STATUSES.join(", ")}`);
  }
  return upper as RunStatus;
}
