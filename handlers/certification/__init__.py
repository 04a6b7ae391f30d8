"""The certification domain: professional-account applications and their review."""

from handlers.base import Domain, Route
from handlers.certification.handle import handle_reviewed_batch, handle_submitted_batch
from handlers.certification.reasons import REASONS
from schema.certification import CertificationReviewed, CertificationSubmitted

DOMAIN = Domain(
    name="certification",
    binding_keys=("certification.*",),
    routes=(
        Route("certification.submitted", CertificationSubmitted, handle_submitted_batch),
        Route("certification.reviewed", CertificationReviewed, handle_reviewed_batch),
    ),
    reasons=REASONS,
)
