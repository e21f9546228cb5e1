-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE t (id int);
-- +goose StatementBegin
CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;
-- +goose StatementEnd
-- +goose Down
DROP TABLE t;
