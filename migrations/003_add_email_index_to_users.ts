// bun run migrate:create add_email_index_to_users
export const up = `
  CREATE INDEX CONCURRENTLY idx_users_email_lower
  ON users(LOWER(email));
`;

export const down = `
  DROP INDEX CONCURRENTLY IF EXISTS idx_users_email_lower;
`;
