/** Exit codes of the `ballast` command, documented in docs/cli.md. */
export const exitCodes = {
  ok: 0,
  /** A failure at run time (the server could not start, the store could not be opened). */
  failure: 1,
  /** Wrong usage: unknown command or option, missing argument. */
  usage: 2,
  /** The configuration file is missing or invalid. */
  invalidConfig: 3,
  /** `decide`: the input was refused (malformed, or violating the contract). */
  invalidInput: 4,
  /** `audit verify`: the log or the proof does not verify (tampered, or not this log's). */
  auditFailed: 5,
} as const;
