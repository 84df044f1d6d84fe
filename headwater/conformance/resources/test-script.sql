-- ksqlDB's test classpath resource /test-script.sql, which sql-tests/test.sql runs with
-- RUN SCRIPT '/test-script.sql' (the statements are listed in a comment above that line).
-- Kept outside any directory of KsqlTester scripts so it is not loaded as a test itself.
CREATE STREAM foo (id INT KEY, col1 INT) WITH (kafka_topic='foo', value_format='JSON');
CREATE STREAM bar AS SELECT * FROM foo;
