"""`haodian roles apply`, RabbitMQ side: one user per part, with vhost permissions as
regular expressions over the names of workers/topology.py, set through the management
HTTP API (the administrator's HAODIAN_MANAGEMENT_URL). Applying again changes nothing.

    worker   configure: every exchange and the queues of every domain (it declares them)
             write: all of them but haodian.events (results, DLQ and retry copies, bindings)
             read: what it binds from and consumes; not haodian.results, not the DLQs
    gateway  write haodian.events; nothing else
    monitor  read the DLQs (list, replay, purge), write haodian.events (replay); tag
             `monitoring` for the management API's queue figures
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
from pydantic import SecretStr

from workers import topology
from workers.access.names import BrokerUsers

NOTHING = "^$"


@dataclass(frozen=True)
class Permissions:
    configure: str
    write: str
    read: str


@dataclass(frozen=True)
class UserSpec:
    name: str
    tags: str
    permissions: Permissions


def any_of(*fragments: str) -> str:
    """A regular expression matching exactly one of the fragments (already regexes)."""
    return "^(" + "|".join(fragments) + ")$"


def _names(*names: str) -> list[str]:
    return [re.escape(n) for n in names]


def user_specs(users: BrokerUsers, domains: Sequence[str]) -> list[UserSpec]:
    domain_queues = _names(*(topology.domain_queue(d) for d in domains))
    dlqs = _names(*(topology.dlq_name(d) for d in domains))
    retry_queues = [topology.retry_queue_pattern(d) for d in domains]
    # haodian.unroutable is both an exchange and its queue; a permission covers both.
    bound_from = _names(topology.EVENTS, topology.UNROUTABLE, topology.RETRY,
                        topology.REQUEUE, topology.DLX)
    published_to = _names(topology.RESULTS, topology.UNROUTABLE, topology.RETRY,
                          topology.REQUEUE, topology.DLX)
    worker = Permissions(
        configure=any_of(*_names(topology.EVENTS), *published_to, *domain_queues, *dlqs,
                         *retry_queues),
        write=any_of(*published_to, *domain_queues, *dlqs, *retry_queues),
        read=any_of(*bound_from, *domain_queues, *retry_queues))
    events_only = any_of(*_names(topology.EVENTS))
    return [UserSpec(users.worker, "", worker),
            UserSpec(users.gateway, "", Permissions(NOTHING, events_only, NOTHING)),
            UserSpec(users.monitor, "monitoring", Permissions(NOTHING, events_only,
                                                              any_of(*dlqs)))]


class BrokerAdminError(Exception):
    """The management API refused or failed a request; the message says which."""


class ManagementApi:
    """The few management API calls this needs, as the administrator of the URL."""

    def __init__(self, management_url: str, timeout_s: float) -> None:
        parts = urlsplit(management_url)
        netloc = parts.hostname or "127.0.0.1"
        if parts.port:
            netloc += f":{parts.port}"
        self.client = httpx.AsyncClient(
            base_url=f"{parts.scheme}://{netloc}", timeout=timeout_s,
            auth=(unquote(parts.username or "guest"), unquote(parts.password or "guest")))

    async def __aenter__(self) -> "ManagementApi":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

    async def get(self, path: str) -> dict[str, Any] | None:
        response = await self.client.get(path)
        if response.status_code == 404:
            return None
        _check(response)
        body: dict[str, Any] = response.json()
        return body

    async def put(self, path: str, body: Mapping[str, Any]) -> None:
        _check(await self.client.put(path, json=dict(body)))


def _check(response: httpx.Response) -> None:
    if response.is_error:
        raise BrokerAdminError(f"management API {response.request.method} "
                               f"{response.request.url.path}: {response.status_code} "
                               f"{response.text[:200]}")


def _same_password(user: Mapping[str, Any], password: str) -> bool:
    """RabbitMQ's salted SHA-256 (its default): base64(salt[4] + sha256(salt + password))."""
    if user.get("hashing_algorithm") != "rabbit_password_hashing_sha256":
        return False
    stored = base64.b64decode(user.get("password_hash") or "")
    salt = stored[:4]
    return len(stored) == 36 and hmac.compare_digest(
        stored, salt + hashlib.sha256(salt + password.encode()).digest())


def _tags(user: Mapping[str, Any]) -> list[str]:
    tags = user.get("tags") or []
    return sorted(t for t in (tags.split(",") if isinstance(tags, str) else tags) if t)


async def apply_users(api: ManagementApi, vhost: str, specs: Sequence[UserSpec],
                      passwords: Mapping[str, SecretStr | None]) -> list[str]:
    """Create or correct each user and its permissions on `vhost`; returns what was done."""
    v = quote(vhost, safe="")
    if await api.get(f"/api/vhosts/{v}") is None:
        raise BrokerAdminError(f"vhost {vhost!r} does not exist")
    done = []
    for spec in specs:
        u = quote(spec.name, safe="")
        current = await api.get(f"/api/users/{u}")
        password = passwords.get(spec.name)
        tags = sorted(t for t in spec.tags.split(",") if t)
        if password is not None and (current is None or not _same_password(
                current, password.get_secret_value()) or _tags(current) != tags):
            await api.put(f"/api/users/{u}", {"password": password.get_secret_value(),
                                              "tags": spec.tags})
            done.append(f"user {spec.name}: {'created' if current is None else 'password set'}"
                        f", tags [{spec.tags}]")
        elif current is None:  # no password: certificate (EXTERNAL) login, or set one later
            await api.put(f"/api/users/{u}", {"password_hash": "", "tags": spec.tags})
            done.append(f"user {spec.name}: created without a password, tags [{spec.tags}]")
        elif _tags(current) != tags:
            await api.put(f"/api/users/{u}", {
                "password_hash": current["password_hash"],
                "hashing_algorithm": current["hashing_algorithm"], "tags": spec.tags})
            done.append(f"user {spec.name}: tags [{spec.tags}]")
        held = await api.get(f"/api/permissions/{v}/{u}")
        wanted = asdict(spec.permissions)
        if held is None or any(held.get(k) != p for k, p in wanted.items()):
            await api.put(f"/api/permissions/{v}/{u}", wanted)
            done.append(f"permissions of {spec.name} on {vhost}: configure {wanted['configure']}"
                        f" · write {wanted['write']} · read {wanted['read']}")
    return done
