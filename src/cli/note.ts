export const accessCommandsNote = `
Exit codes: 0 done, 1 internal error or server unreachable, 2 usage, 3 refused by a rule (the code
is printed), 4 not found, 5 database held by another process.

Environment: TENURE_DATA_DIR (embedded database, default ./.tenure), DATABASE_URL (PostgreSQL
server instead), TENURE_ACTOR (default for --as).

Server mode: --server URL (or TENURE_SERVER) sends every command to the API of a running Tenure,
acting as the owner of the token in TENURE_TOKEN. The token is read from the environment only,
never from a flag, which would show in ps and in shell history. init, demo, serve, worker (without
--once) and webhook work on the database directly and refuse in server mode.`;
