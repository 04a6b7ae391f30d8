"""Which domains exist and which routes they serve; refuses duplicates at start-up."""

import importlib
from collections.abc import Sequence
from functools import cache

from handlers.base import AnyRoute, Domain

DOMAIN_NAMES = ("certification", "compliance", "settlement", "deposit")


class RegistryError(Exception):
    """A domain is unknown or two routes claim one event type."""


@cache
def load_domain(name: str) -> Domain:
    if name not in DOMAIN_NAMES:
        raise RegistryError(f"unknown domain {name!r}; choose from {', '.join(DOMAIN_NAMES)}")
    domain = importlib.import_module(f"handlers.{name}").DOMAIN
    if not isinstance(domain, Domain) or domain.name != name:
        raise RegistryError(f"handlers.{name}.DOMAIN is not the {name} Domain")
    routes_by_type(domain)  # validates
    return domain


def resolve(names: Sequence[str]) -> list[Domain]:
    """`all` means every domain."""
    if list(names) == ["all"]:
        names = DOMAIN_NAMES
    return [load_domain(n) for n in dict.fromkeys(names)]


def routes_by_type(domain: Domain) -> dict[str, AnyRoute]:
    table: dict[str, AnyRoute] = {}
    for route in domain.routes:
        if route.event_type in table:
            raise RegistryError(f"{domain.name}: two routes for {route.event_type}")
        table[route.event_type] = route
    return table
