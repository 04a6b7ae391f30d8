"""Reason codes the compliance domain emits (store and product decisions, errors).

A rejection by a human reviewer carries the reviewer's own codes as they came in
`product.reviewed`; those belong to the review team's catalogue, not this one."""

REASONS: dict[str, str] = {
    # store.rejected
    "account_not_professional": (
        "The account holds no professional certification valid at the request's time "
        "(never certified, or the certification expired)."
    ),
    "account_has_store": "The account already holds a store (one store per account, for good).",
    "store_type_not_allowed": (
        "The store type needs a certification on another track "
        "(individual_business, enterprise, flagship and specialty need the enterprise track)."
    ),
    "store_name_banned_word": (
        "The store name contains a word reserved for other store types "
        "(品牌, 旗舰, 专卖, 官方 … for personal, individual_business and enterprise stores)."
    ),
    # product.rejected
    "store_not_open": "The product's store is unknown, was never opened, or is not open.",
    "certification_expired": (
        "The store's account no longer holds a valid professional certification."
    ),
    "category_prohibited": "The category may not be sold (tobacco, weapons, …).",
    "category_unknown": "The category is not in the taxonomy.",
    "qualification_missing": "A restricted category needs a qualification of a kind not given.",
    "qualification_invalid": "A needed qualification's number does not have its kind's format.",
    "qualification_expired": "A needed qualification expired before the submission date.",
    "category_not_allowed_for_store_type": (
        "The category may not be sold by this store type (mother_baby in personal stores)."
    ),
    "brand_authorization_missing": (
        "A flagship or specialty store sells a brand without a valid brand authorization."
    ),
    "rejected_by_reviewer": "A human reviewer rejected the flagged product without a code.",
    # product.flagged
    "absolute_advertising_term": (
        "The title or description uses an absolute advertising term (最, 第一, NO.1 …): "
        "held for human review."
    ),
    # errors: to the DLQ (permanent) or retried (transient)
    "store_id_conflict": (
        "The store id is already open for another account, type or name (permanent)."
    ),
    "store_type_unconfigured": "The store type has no policy or deposit row (permanent).",
    "store_open_contended": (
        "Another transaction bound the account or store id meanwhile (transient: retried)."
    ),
    "product_store_conflict": "The product id already belongs to another store (permanent).",
    "product_unknown": (
        "A review arrived for a product not submitted yet (transient: retried, out of order)."
    ),
    "product_not_flagged": (
        "A review arrived for a product that is not waiting for one (permanent)."
    ),
}
