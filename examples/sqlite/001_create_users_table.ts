// The seed's demo set for SQLite: scripts/demo sqlite runs it on a file.
// SERIAL is PostgreSQL's; an INTEGER PRIMARY KEY is SQLite's rowid.
export const up = `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255) UNIQUE NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
  );
`;

export const down = `
  DROP TABLE users;
`;
