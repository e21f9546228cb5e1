-- migrate:up
CREATE FUNCTION f() RETURNS trigger AS $body$
BEGIN
  RAISE NOTICE 'x; $$ y';
  PERFORM $q$ ; $inner$ $q$;
  RETURN NEW;
END
$body$ LANGUAGE plpgsql;
DO $$ BEGIN PERFORM 1; END $$;
PREPARE p AS SELECT $1, foo$bar, a$$b FROM t WHERE x = $2;
SELECT 1$$;$$;
