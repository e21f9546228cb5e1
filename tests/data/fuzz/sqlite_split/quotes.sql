SELECT "a;b", [c;d], `e;f`, 'g;h' -- i;
/* j; */ FROM x;
EXPLAIN CREATE TEMP TRIGGER y BEFORE DELETE ON z BEGIN SELECT 1; END
