INSERT INTO t (a, b, c) VALUES (1, 'it''s; fine', E'back\\slash \'q\';'),
  (2, U&'d\0061t;a', 'c:\dir\'), (3, B'1010', X'1F'), (4, N'n;', E'a'
  -- continued
  '\';');
SELECT "quoted;ident", "a""b", U&"d\0061t" FROM "t;t";
