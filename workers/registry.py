"""Which domains exist and which routes they serve; refuses duplicates at start-up.

The four domains are imported here by name, so a reader (or a tool) sees every
workers -> handlers dependency in one place."""

from collections.abc import Sequence

from handlers import certification, compliance, deposit, settlement
from handlers.base import AnyRoute, Domain
from workers.topology import UNROUTABLE_PLACE

DOMAINS: dict[str, Domain] = {d.name: d for d in (
    certification.DOMAIN, compliance.DOMAIN, settlement.DOMAIN, deposit.DOMAIN)}
DOMAIN_NAMES = tuple(DOMAINS)
# Places that keep dead letters: every domain's DLQ, and what no domain's binding took.
PLACES = (*DOMAIN_NAMES, UNROUTABLE_PLACE)


class RegistryError(Exception):
    """A domain is unknown or two routes claim one event type."""


def select(names: Sequence[str]) -> list[str]:
    """Domain names as given on a command line: `all` means every domain; unknown names
    are refused."""
    chosen = list(DOMAIN_NAMES) if "all" in names else list(dict.fromkeys(names))
    for name in chosen:
        if name not in DOMAINS:
            raise RegistryError(f"unknown domain {name!r}; choose from "
                                f"{', '.join(DOMAIN_NAMES)} or all")
    return chosen


def select_place(name: str) -> str:
    """A place of dead letters as given on a command line; unknown names are refused."""
    if name not in PLACES:
        raise RegistryError(f"unknown domain {name!r}; choose from {', '.join(PLACES)}")
    return name


def load_domain(name: str) -> Domain:
    """One domain, its routes checked."""
    domain = DOMAINS.get(name)
    if domain is None:
        raise RegistryError(f"unknown domain {name!r}; choose from {', '.join(DOMAIN_NAMES)}")
    routes_by_type(domain)  # validates
    return domain


def resolve(names: Sequence[str]) -> list[Domain]:
    return [load_domain(n) for n in select(names)]


def routes_by_type(domain: Domain) -> dict[str, AnyRoute]:
    table: dict[str, AnyRoute] = {}
    for route in domain.routes:
        if route.event_type in table:
            raise RegistryError(f"{domain.name}: two routes for {route.event_type}")
        table[route.event_type] = route
    return table


def all_routes() -> dict[str, AnyRoute]:
    """Every event type some domain handles, with its route."""
    table: dict[str, AnyRoute] = {}
    for domain in resolve(list(DOMAIN_NAMES)):
        table.update(routes_by_type(domain))
    return table
