"""What `haodian roles apply` does: the PostgreSQL role set on the database of
HAODIAN_DATABASE_URL, the RabbitMQ users on the vhost of HAODIAN_AMQP_URL, both as the
administrator those URLs (and HAODIAN_MANAGEMENT_URL) name."""


from workers import db
from workers.access.broker_users import ManagementApi, apply_users, user_specs
from workers.access.names import broker_users, pg_roles
from workers.access.pg_roles import apply_roles
from workers.ops.queues import vhost_of
from workers.registry import DOMAIN_NAMES
from workers.settings import OpsSettings, RoleSettings, Settings


async def apply_postgres(s: Settings, passwords: RoleSettings) -> list[str]:
    roles = pg_roles(s.role_prefix)
    conn = await db.connect(str(s.database_url))
    try:
        return await apply_roles(conn, roles, {
            roles.migrator: passwords.pg_password_migrator,
            roles.runtime: passwords.pg_password_runtime,
            roles.readonly: passwords.pg_password_readonly,
            roles.gateway: passwords.pg_password_gateway})
    finally:
        await conn.close()


async def apply_rabbitmq(s: Settings, ops: OpsSettings, passwords: RoleSettings) -> list[str]:
    users = broker_users(s.role_prefix)
    async with ManagementApi(ops.management_url, ops.management_timeout_s) as api:
        return await apply_users(api, vhost_of(str(s.amqp_url)),
                                 user_specs(users, list(DOMAIN_NAMES)), {
                                     users.worker: passwords.amqp_password_worker,
                                     users.gateway: passwords.amqp_password_gateway,
                                     users.monitor: passwords.amqp_password_monitor})
