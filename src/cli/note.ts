export const accessCommandsNote = `
Exit codes: 0 done, 1 internal error, 2 usage, 3 refused by a rule (the code is printed),
4 not found, 5 database held by another process.

Environment: TENURE_DATA_DIR (embedded database, default ./.tenure), DATABASE_URL (PostgreSQL
server instead), TENURE_ACTOR (default for --as).`;
