-- ClickHouse users for the docker-compose stack. Run once by the clickhouse-server image's entrypoint
-- (/docker-entrypoint-initdb.d) as the admin user, which has SQL access management
-- (CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT=1). The passwords are the local stack's development defaults and
-- must match docker-compose.yml; change both for anything beyond a laptop.

CREATE DATABASE IF NOT EXISTS otel;

-- Ingest (migrate + consumer): owns the schema and writes spans.
CREATE ROLE IF NOT EXISTS modelwatch_ingest;
GRANT SHOW, SELECT, INSERT, ALTER, OPTIMIZE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW ON otel.* TO modelwatch_ingest;
CREATE USER IF NOT EXISTS modelwatch_writer IDENTIFIED WITH sha256_password BY 'modelwatch-writer-dev' DEFAULT DATABASE otel;
GRANT modelwatch_ingest TO modelwatch_writer;
SET DEFAULT ROLE modelwatch_ingest TO modelwatch_writer;

-- Grafana: reads only. readonly = 2 still lets the plugin send per-query settings, but no writes or DDL.
CREATE ROLE IF NOT EXISTS modelwatch_reader;
GRANT SHOW, SELECT ON otel.* TO modelwatch_reader;
CREATE USER IF NOT EXISTS grafana_reader IDENTIFIED WITH sha256_password BY 'grafana-reader-dev' DEFAULT DATABASE otel SETTINGS readonly = 2;
GRANT modelwatch_reader TO grafana_reader;
SET DEFAULT ROLE modelwatch_reader TO grafana_reader;
