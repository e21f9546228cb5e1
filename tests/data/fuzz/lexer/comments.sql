BEGIN;
/* a /* nested; */ still; */
CREATE TABLE a (id int); -- done;
SELECT 2*/**/3 /* tail */;
COMMIT;
--