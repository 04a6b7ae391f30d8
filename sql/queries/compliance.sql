-- list_store_type_policies --
-- Per store type: required certification track, brand qualification, standard-plan
-- deposit and the words its name must not contain.
SELECT t.store_type, t.required_track, t.brand_qualification_kind,
       d.required_fen AS deposit_required_fen,
       coalesce((SELECT array_agg(w.word ORDER BY w.word) FROM store_name_banned_words w
                 WHERE w.store_type = t.store_type), '{}') AS banned_words
FROM store_types t
JOIN deposit_requirements d ON d.store_type = t.store_type AND d.plan = 'standard';

-- list_categories --
-- The taxonomy: each category's class, its requirement groups (one kinds[] per group,
-- as rows of list_category_requirements) and the store types it is excluded from.
SELECT c.category, c.category_class,
       coalesce((SELECT array_agg(x.store_type ORDER BY x.store_type)
                 FROM category_store_type_exclusions x WHERE x.category = c.category),
                '{}') AS excluded_store_types
FROM categories c;

-- list_category_requirements --
-- One row per requirement group: the kinds any one of which satisfies it.
SELECT category, requirement, array_agg(kind ORDER BY kind) AS kinds
FROM category_qualifications
GROUP BY category, requirement
ORDER BY category, requirement;

-- list_qualification_kinds --
-- Each qualification kind and the number format the rules check.
SELECT kind, number_format FROM qualification_kinds;

-- list_provinces --
-- Province short names used in ordinary-cosmetics filing numbers.
SELECT short_name FROM provinces ORDER BY short_name;

-- list_advertising_terms --
-- Absolute advertising terms that send a product to human review.
SELECT term FROM advertising_terms ORDER BY term;

-- get_certification --
-- An account's professional certification (certification domain's table), if any.
SELECT track, valid_until FROM professional_accounts WHERE account_id = $1;

-- get_store --
-- One store by id.
SELECT store_id, account_id, store_type, store_name, status, deposit_plan,
       deposit_required_fen, opened_at
FROM stores WHERE store_id = $1;

-- check_account_has_store --
-- Whether the account already holds a store (any status: one store per account).
SELECT EXISTS (SELECT 1 FROM stores WHERE account_id = $1);

-- insert_store --
-- Opens a store; returns nothing when the store id or the account is taken meanwhile.
INSERT INTO stores (store_id, account_id, store_type, store_name, deposit_plan,
                    deposit_required_fen, opened_at, event_source, event_id)
VALUES ($1, $2, $3, $4, 'standard', $5, $6, $7, $8)
ON CONFLICT DO NOTHING
RETURNING store_id;

-- insert_store_rejection --
-- Records a refused opening request.
INSERT INTO store_rejections (store_id, account_id, store_type, store_name, reasons,
                              banned_words, requested_at, event_source, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- lock_product --
-- The current version of a product, locked for the decision that replaces it.
SELECT product_id, store_id, status, submitted_at FROM products WHERE product_id = $1
FOR UPDATE;

-- insert_review --
-- One decision in a product's history; returns its id.
INSERT INTO product_reviews (product_id, store_id, kind, status, reasons, matches, reviewer,
                             submission, decided_at, event_source, event_id)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10, $11)
RETURNING id;

-- upsert_product --
-- Stores a submitted version and its decision, unless a version submitted later is
-- already there (out-of-order submissions keep only their history row).
INSERT INTO products (product_id, store_id, title, description, category, price_fen, brand,
                      qualifications, status, reasons, terms, submitted_at, decided_at,
                      review_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10, $11, $12, $12, $13)
ON CONFLICT (product_id) DO UPDATE
SET store_id = EXCLUDED.store_id, title = EXCLUDED.title,
    description = EXCLUDED.description, category = EXCLUDED.category,
    price_fen = EXCLUDED.price_fen, brand = EXCLUDED.brand,
    qualifications = EXCLUDED.qualifications, status = EXCLUDED.status,
    reasons = EXCLUDED.reasons, terms = EXCLUDED.terms,
    submitted_at = EXCLUDED.submitted_at, decided_at = EXCLUDED.decided_at,
    review_id = EXCLUDED.review_id
WHERE products.submitted_at <= EXCLUDED.submitted_at;

-- mark_product_reviewed --
-- Settles a flagged product with a human decision.
UPDATE products SET status = $2, reasons = $3, decided_at = $4, review_id = $5
WHERE product_id = $1;

-- list_store_shelf --
-- The products a store has on its shelf (approved by the rules or listed after review).
SELECT product_id, title, category, price_fen, status
FROM products WHERE store_id = $1 AND status IN ('approved', 'listed')
ORDER BY product_id;
