-- get_policy_snapshot --
-- Every policy table the rules read, in one round trip (read per batch: operators change
-- them without a release): per store type its certification track, brand qualification,
-- standard-plan deposit and banned name words; per category its class, requirement groups
-- (the kinds any one of which satisfies a group) and excluded store types; each
-- qualification kind's number format; province short names (ordinary-cosmetics filing
-- numbers); absolute advertising terms.
SELECT
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'store_type', t.store_type, 'required_track', t.required_track,
                'brand_qualification_kind', t.brand_qualification_kind,
                'deposit_required_fen', d.required_fen,
                'banned_words', coalesce((SELECT jsonb_agg(w.word ORDER BY w.word)
                                          FROM store_name_banned_words w
                                          WHERE w.store_type = t.store_type), '[]'))),
                     '[]')
     FROM store_types t
     JOIN deposit_requirements d ON d.store_type = t.store_type AND d.plan = 'standard'
    )::text AS store_types,
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'category', c.category, 'category_class', c.category_class,
                'excluded_store_types', coalesce((SELECT jsonb_agg(x.store_type
                                                                   ORDER BY x.store_type)
                                                  FROM category_store_type_exclusions x
                                                  WHERE x.category = c.category), '[]'),
                'requirements', coalesce((SELECT jsonb_agg(g.kinds ORDER BY g.requirement)
                                          FROM (SELECT q.requirement,
                                                       jsonb_agg(q.kind ORDER BY q.kind) AS kinds
                                                FROM category_qualifications q
                                                WHERE q.category = c.category
                                                GROUP BY q.requirement) g), '[]'))),
                     '[]')
     FROM categories c
    )::text AS categories,
    (SELECT coalesce(jsonb_object_agg(kind, number_format), '{}') FROM qualification_kinds
    )::text AS kind_formats,
    ARRAY(SELECT short_name FROM provinces ORDER BY short_name) AS provinces,
    ARRAY(SELECT term FROM advertising_terms ORDER BY term) AS terms;

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

-- check_store_request_refused --
-- Whether this input event's opening request was refused before (a replay the inbox no
-- longer remembers: the refusal is not recorded twice).
SELECT EXISTS (SELECT 1 FROM store_rejections WHERE event_source = $1 AND event_id = $2);

-- list_reviewed_events --
-- The input events ($1 sources, $2 ids) that already have a review in a product's history:
-- replays the inbox no longer remembers, which must not review the product again.
SELECT r.event_source, r.event_id
FROM product_reviews r
JOIN unnest($1::text[], $2::text[]) AS k(event_source, event_id)
  ON r.event_source = k.event_source AND r.event_id = k.event_id;

-- lock_product --
-- The current version of a product, locked for the human decision that settles it.
SELECT product_id, store_id, status, submitted_at FROM products WHERE product_id = $1
FOR UPDATE;

-- lock_products --
-- The current versions of a batch's products, locked in key order for the decisions that
-- replace them.
SELECT product_id, store_id FROM products WHERE product_id = ANY($1::text[])
ORDER BY product_id
FOR UPDATE;

-- get_stores_with_certification --
-- A batch's stores by id, each with its account's certification (track NULL: none).
SELECT s.store_id, s.account_id, s.store_type, s.store_name, s.status,
       p.track, p.valid_until
FROM stores s
LEFT JOIN professional_accounts p ON p.account_id = s.account_id
WHERE s.store_id = ANY($1::text[]);

-- insert_submission_reviews --
-- A batch of automatic reviews in one statement ($1: a JSON array, one element per
-- submission in delivery order): every review into the history, in order; into products,
-- per product the version that wins as one-by-one upserts would leave it (the latest
-- submission time, the later delivery on a tie), unless a version submitted later is
-- already there (out-of-order submissions keep only their history row).
WITH input AS (
    SELECT nextval('product_reviews_id_seq') AS review_id, e.ord, r.*
    FROM jsonb_array_elements($1::text::jsonb) WITH ORDINALITY AS e (doc, ord)
    CROSS JOIN LATERAL jsonb_to_record(e.doc) AS r (
        submission jsonb, status text, reasons text[], terms text[], matches jsonb,
        submitted_at timestamptz, event_source text, event_id text)
    ORDER BY e.ord
), reviews AS (
    INSERT INTO product_reviews (id, product_id, store_id, kind, status, reasons, matches,
                                 reviewer, submission, decided_at, event_source, event_id)
    SELECT review_id, submission ->> 'product_id', submission ->> 'store_id', 'automatic',
           status, reasons, matches, NULL, submission, submitted_at, event_source, event_id
    FROM input
)
INSERT INTO products (product_id, store_id, title, description, category, price_fen, brand,
                      qualifications, status, reasons, terms, submitted_at, decided_at,
                      review_id)
SELECT DISTINCT ON (submission ->> 'product_id')
       submission ->> 'product_id', submission ->> 'store_id', submission ->> 'title',
       submission ->> 'description', submission ->> 'category',
       (submission ->> 'price_fen')::bigint, submission ->> 'brand',
       submission -> 'qualifications', status, reasons, terms, submitted_at, submitted_at,
       review_id
FROM input
ORDER BY submission ->> 'product_id', submitted_at DESC, ord DESC
ON CONFLICT (product_id) DO UPDATE
SET store_id = EXCLUDED.store_id, title = EXCLUDED.title,
    description = EXCLUDED.description, category = EXCLUDED.category,
    price_fen = EXCLUDED.price_fen, brand = EXCLUDED.brand,
    qualifications = EXCLUDED.qualifications, status = EXCLUDED.status,
    reasons = EXCLUDED.reasons, terms = EXCLUDED.terms,
    submitted_at = EXCLUDED.submitted_at, decided_at = EXCLUDED.decided_at,
    review_id = EXCLUDED.review_id
WHERE products.submitted_at <= EXCLUDED.submitted_at;

-- insert_review --
-- One decision in a product's history (a human review); returns its id.
INSERT INTO product_reviews (product_id, store_id, kind, status, reasons, matches, reviewer,
                             submission, decided_at, event_source, event_id)
VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10, $11)
RETURNING id;

-- mark_product_reviewed --
-- Settles a flagged product with a human decision.
UPDATE products SET status = $2, reasons = $3, decided_at = $4, review_id = $5
WHERE product_id = $1;

-- list_store_shelf --
-- The products a store has on its shelf (approved by the rules or listed after review).
SELECT product_id, title, category, price_fen, status
FROM products WHERE store_id = $1 AND status IN ('approved', 'listed')
ORDER BY product_id;
