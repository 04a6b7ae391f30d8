-- list_relations --
-- Tables, views and sequences of a schema; a sequence names the table it belongs to
-- (serial and identity columns), whose INSERT privilege it follows.
SELECT c.relname, c.relkind::text AS relkind, t.relname AS owner_table,
       pg_get_userbyid(c.relowner) AS owner
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
ORDER BY c.relname;

-- list_relation_grants --
-- Privileges the given roles hold on the tables, views and sequences of a schema.
SELECT c.relname, pg_get_userbyid(a.grantee) AS grantee, a.privilege_type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) AS a
WHERE n.nspname = $1 AND pg_get_userbyid(a.grantee) = ANY($2::text[]);

-- list_existing_roles --
-- Which of the given roles exist, with the attributes `haodian roles apply` manages.
SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,
       rolbypassrls
FROM pg_roles WHERE rolname = ANY($1::text[]);

-- get_schema --
-- A schema's owner and its privileges per grantee ('' = PUBLIC); no row when it is missing.
SELECT pg_get_userbyid(n.nspowner) AS owner,
       coalesce((SELECT array_agg(CASE WHEN a.grantee = 0 THEN '' ELSE
                                  pg_get_userbyid(a.grantee) END || ':' || a.privilege_type)
                 FROM aclexplode(n.nspacl) AS a), '{}') AS grants
FROM pg_namespace n WHERE n.nspname = $1;

-- list_database_connectors --
-- Which of the given roles hold CONNECT on the current database by a grant of their own.
SELECT pg_get_userbyid(a.grantee) AS grantee
FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) AS a
WHERE d.datname = current_database() AND a.privilege_type = 'CONNECT'
  AND pg_get_userbyid(a.grantee) = ANY($1::text[]);

-- list_default_privileges --
-- Default privileges a role's future tables ('r') and sequences ('S') of a schema give.
SELECT d.defaclobjtype::text AS objtype, pg_get_userbyid(a.grantee) AS grantee,
       a.privilege_type
FROM pg_default_acl d
JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
WHERE n.nspname = $1 AND d.defaclrole = $2::regrole;

-- can_read_passwords --
-- Whether the caller may read pg_authid (a superuser may).
SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT');

-- get_role_password --
-- A role's stored SCRAM verifier (NULL when it has no password).
SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1;
