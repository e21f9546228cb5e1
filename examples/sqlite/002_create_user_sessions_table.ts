// Foreign keys are enforced on dbmigrate's connection (PRAGMA
// foreign_keys=ON), so ON DELETE CASCADE holds during migrations too.
export const up = `
  CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token VARCHAR(255) UNIQUE NOT NULL,
    expires_at TEXT NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
  );

  CREATE INDEX idx_user_sessions_user_id ON user_sessions(user_id);
`;

export const down = `
  DROP TABLE user_sessions;
`;
