#!/bin/sh
# Creates Label Studio's own role and database next to dataeff's, so the two applications
# share one PostgreSQL server but no tables and no credentials.
#
# The postgres image runs this once, on the first start of an empty data volume
# (/docker-entrypoint-initdb.d), as $POSTGRES_USER on $POSTGRES_DB. Later password changes are
# made with ALTER ROLE, not by editing deploy/.env alone.
#
# Environment: LABEL_STUDIO_DB_PASSWORD (required); LABEL_STUDIO_DB_NAME and
# LABEL_STUDIO_DB_USER (default: labelstudio, as POSTGRE_NAME / POSTGRE_USER in compose).
set -eu

: "${LABEL_STUDIO_DB_PASSWORD:?LABEL_STUDIO_DB_PASSWORD is required}"
ls_db="${LABEL_STUDIO_DB_NAME:-labelstudio}"
ls_user="${LABEL_STUDIO_DB_USER:-labelstudio}"

# psql variables (:'x' a quoted literal, :"x" a quoted identifier) keep the password and the
# names out of the SQL text, whatever characters they hold.
psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    --set=ls_db="$ls_db" --set=ls_user="$ls_user" --set=ls_password="$LABEL_STUDIO_DB_PASSWORD" \
    <<'SQL'
CREATE ROLE :"ls_user" LOGIN PASSWORD :'ls_password';
CREATE DATABASE :"ls_db" OWNER :"ls_user";
REVOKE ALL ON DATABASE :"ls_db" FROM PUBLIC;
SQL
echo "init-labelstudio: created role $ls_user and database $ls_db"
