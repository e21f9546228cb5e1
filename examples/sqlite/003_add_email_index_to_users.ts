// SQLite has no CREATE INDEX CONCURRENTLY: a write takes the whole
// database for a moment, so the index is built in the batch's transaction.
export const up = `
  CREATE INDEX idx_users_email_lower
  ON users(LOWER(email));
`;

export const down = `
  DROP INDEX IF EXISTS idx_users_email_lower;
`;
