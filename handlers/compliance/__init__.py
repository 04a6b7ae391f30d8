"""The compliance domain: store openings and product compliance checks."""

from handlers.base import Domain, Route
from handlers.compliance.handle import (
    handle_product_reviewed,
    handle_product_submitted,
    handle_store_open_requested,
)
from handlers.compliance.reasons import REASONS
from schema.compliance import ProductReviewed, ProductSubmitted, StoreOpenRequested

DOMAIN = Domain(
    name="compliance",
    binding_keys=("store.*", "product.*"),
    routes=(
        Route("store.open_requested", StoreOpenRequested, handle_store_open_requested),
        Route("product.submitted", ProductSubmitted, handle_product_submitted),
        Route("product.reviewed", ProductReviewed, handle_product_reviewed),
    ),
    reasons=REASONS,
)
