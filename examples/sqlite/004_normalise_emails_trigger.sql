-- A trigger: its body BEGIN ... END is one statement, the semicolons
-- inside it included (the sqlite driver splits as sqlite3_complete() does).
-- migrate:up
CREATE TRIGGER users_email_lower AFTER INSERT ON users
BEGIN
  UPDATE users SET email = lower(NEW.email) WHERE id = NEW.id;
END;

-- migrate:down
DROP TRIGGER users_email_lower;
