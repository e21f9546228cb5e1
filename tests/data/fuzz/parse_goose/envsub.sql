-- +goose up
SELECT 1;
-- +goose ENVSUB ON
