-- Compliance: stores bound one-to-one to accounts, products and their review history, and
-- the policy data the rules read (taxonomy, qualification kinds, provinces, advertising
-- terms, banned store-name words, deposits). Operators change the data tables without a
-- release; the rules never hard-code them.

-- Policy data ------------------------------------------------------------------------------

CREATE TABLE qualification_kinds (
    kind          text PRIMARY KEY,
    -- The number format the rules check (handlers/compliance/rules.py FORMATS).
    number_format text NOT NULL CHECK (number_format IN (
                      'cosmetics_registration', 'cosmetics_filing', 'food_production_license',
                      'food_business_license', 'free_text')),
    description   text NOT NULL
);

INSERT INTO qualification_kinds (kind, number_format, description) VALUES
    ('cosmetics_registration', 'cosmetics_registration',
     '特殊化妆品注册证: 国妆特字G + 8 digits, or 国妆特进字J + 8 digits (imported)'),
    ('cosmetics_filing', 'cosmetics_filing',
     '普通化妆品备案: <province>G妆网备字 + 10 digits, or 国妆网备进字(<province>) + 10 digits'),
    ('food_production_license', 'food_production_license', '食品生产许可证: SC + 14 digits'),
    ('food_business_license', 'food_business_license', '食品经营许可证: JY + 14 digits'),
    ('brand_authorization', 'free_text', '品牌授权书: any non-blank number');

CREATE TABLE store_types (
    store_type               text PRIMARY KEY,
    -- Certification track the account needs; NULL = any valid professional certification.
    required_track           text CHECK (required_track IN ('enterprise', 'professional', 'interest')),
    -- Qualification a store of this type needs to sell a branded product; NULL = none.
    brand_qualification_kind text REFERENCES qualification_kinds (kind),
    description              text NOT NULL
);

INSERT INTO store_types (store_type, required_track, brand_qualification_kind, description) VALUES
    ('personal',            NULL,         NULL,                  '个人店'),
    ('individual_business', 'enterprise', NULL,                  '个体工商户店'),
    ('enterprise',          'enterprise', NULL,                  '企业店'),
    ('flagship',            'enterprise', 'brand_authorization', '旗舰店'),
    ('specialty',           'enterprise', 'brand_authorization', '专卖店');

CREATE TABLE deposit_requirements (
    plan         text   NOT NULL CHECK (plan IN ('standard', 'legacy_mall')),
    store_type   text   NOT NULL REFERENCES store_types (store_type),
    required_fen bigint NOT NULL CHECK (required_fen >= 0),
    PRIMARY KEY (plan, store_type)
);

INSERT INTO deposit_requirements (plan, store_type, required_fen) VALUES
    ('standard', 'personal',              100000),
    ('standard', 'individual_business',   100000),
    ('standard', 'enterprise',           2000000),
    ('standard', 'flagship',             2000000),
    ('standard', 'specialty',            2000000);

CREATE TABLE store_name_banned_words (
    store_type text NOT NULL REFERENCES store_types (store_type),
    word       text NOT NULL CHECK (word <> ''),
    PRIMARY KEY (store_type, word)
);

INSERT INTO store_name_banned_words (store_type, word)
SELECT t.store_type, w.word
FROM (VALUES ('personal'), ('individual_business'), ('enterprise')) AS t (store_type)
CROSS JOIN unnest(ARRAY['品牌', '旗舰', '专卖', '集合', '官方', '快闪', '专营', '直营', '官方认证',
                        '官方授权', '特许经营', '特许经销', '实体']) AS w (word);

CREATE TABLE categories (
    category       text PRIMARY KEY,
    category_class text NOT NULL CHECK (category_class IN ('ordinary', 'restricted', 'prohibited')),
    description    text NOT NULL
);

INSERT INTO categories (category, category_class, description) VALUES
    ('apparel',            'ordinary',   '服饰'),
    ('home',               'ordinary',   '家居'),
    ('digital',            'ordinary',   '数码'),
    ('books',              'ordinary',   '图书'),
    ('sports',             'ordinary',   '运动'),
    ('mother_baby',        'ordinary',   '母婴'),
    ('cosmetics_special',  'restricted', '特殊化妆品'),
    ('cosmetics_ordinary', 'restricted', '普通化妆品'),
    ('food',               'restricted', '食品'),
    ('tobacco',            'prohibited', '烟草'),
    ('weapons',            'prohibited', '武器'),
    ('prescription_drugs', 'prohibited', '处方药'),
    ('gambling',           'prohibited', '赌博');

-- A category needs, for each `requirement` group, one good qualification of any kind in
-- the group (food: a production OR a business licence).
CREATE TABLE category_qualifications (
    category    text     NOT NULL REFERENCES categories (category),
    requirement smallint NOT NULL,
    kind        text     NOT NULL REFERENCES qualification_kinds (kind),
    PRIMARY KEY (category, requirement, kind)
);

INSERT INTO category_qualifications (category, requirement, kind) VALUES
    ('cosmetics_special',  1, 'cosmetics_registration'),
    ('cosmetics_ordinary', 1, 'cosmetics_filing'),
    ('food',               1, 'food_production_license'),
    ('food',               1, 'food_business_license');

CREATE TABLE category_store_type_exclusions (
    category   text NOT NULL REFERENCES categories (category),
    store_type text NOT NULL REFERENCES store_types (store_type),
    PRIMARY KEY (category, store_type)
);

INSERT INTO category_store_type_exclusions (category, store_type) VALUES
    ('mother_baby', 'personal');

-- Short names as printed in ordinary-cosmetics filing numbers (粤G妆网备字…, 国妆网备进字(京)…).
CREATE TABLE provinces (
    short_name text PRIMARY KEY,
    name       text NOT NULL UNIQUE
);

INSERT INTO provinces (short_name, name) VALUES
    ('京', '北京市'), ('津', '天津市'), ('冀', '河北省'), ('晋', '山西省'), ('蒙', '内蒙古自治区'),
    ('辽', '辽宁省'), ('吉', '吉林省'), ('黑', '黑龙江省'), ('沪', '上海市'), ('苏', '江苏省'),
    ('浙', '浙江省'), ('皖', '安徽省'), ('闽', '福建省'), ('赣', '江西省'), ('鲁', '山东省'),
    ('豫', '河南省'), ('鄂', '湖北省'), ('湘', '湖南省'), ('粤', '广东省'), ('桂', '广西壮族自治区'),
    ('琼', '海南省'), ('渝', '重庆市'), ('川', '四川省'), ('黔', '贵州省'), ('滇', '云南省'),
    ('藏', '西藏自治区'), ('陕', '陕西省'), ('甘', '甘肃省'), ('青', '青海省'), ('宁', '宁夏回族自治区'),
    ('新', '新疆维吾尔自治区');

-- Absolute terms (Advertising Law art. 9 and common practice), matched case-insensitively
-- after NFKC normalisation.
CREATE TABLE advertising_terms (
    term text PRIMARY KEY CHECK (term <> '')
);

INSERT INTO advertising_terms (term)
SELECT unnest(ARRAY['最', '最佳', '最好', '第一', '唯一', '首个', '首选', '顶级', '国家级', '世界级',
                    '极品', '销量冠军', '独家', '万能', '绝对', 'NO.1', 'TOP1']);

-- Stores -----------------------------------------------------------------------------------

-- One store per account, for good: account_id is unique whatever the store's status.
CREATE TABLE stores (
    store_id             text        PRIMARY KEY,
    account_id           text        NOT NULL UNIQUE,
    store_type           text        NOT NULL REFERENCES store_types (store_type),
    store_name           text        NOT NULL,
    status               text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    deposit_plan         text        NOT NULL DEFAULT 'standard',
    deposit_required_fen bigint      NOT NULL CHECK (deposit_required_fen >= 0),
    opened_at            timestamptz NOT NULL,  -- the request's event time
    event_source         text        NOT NULL,
    event_id             text        NOT NULL
);

-- Refused opening requests: never in `stores`, so they bind nothing.
CREATE TABLE store_rejections (
    id           bigserial   PRIMARY KEY,
    store_id     text        NOT NULL,
    account_id   text        NOT NULL,
    store_type   text        NOT NULL,
    store_name   text        NOT NULL,
    reasons      text[]      NOT NULL,
    banned_words text[]      NOT NULL DEFAULT '{}',
    requested_at timestamptz NOT NULL,
    event_source text        NOT NULL,
    event_id     text        NOT NULL
);
CREATE INDEX store_rejections_store ON store_rejections (store_id);
CREATE INDEX store_rejections_account ON store_rejections (account_id);

-- Products ---------------------------------------------------------------------------------

-- The current version of each product and its listing status:
--   approved  on the shelf, cleared by the automatic rules;
--   flagged   waiting for a human review (absolute advertising terms);
--   listed    on the shelf, cleared by a human reviewer after being flagged;
--   rejected  off the shelf (rules or reviewer), `reasons` say why.
-- No foreign key to stores: a product for an unknown store is recorded as rejected.
CREATE TABLE products (
    product_id     text        PRIMARY KEY,
    store_id       text        NOT NULL,
    title          text        NOT NULL,
    description    text        NOT NULL,
    category       text        NOT NULL,
    price_fen      bigint      NOT NULL CHECK (price_fen >= 0),
    brand          text,
    qualifications jsonb       NOT NULL,
    status         text        NOT NULL CHECK (status IN ('approved', 'rejected', 'flagged', 'listed')),
    reasons        text[]      NOT NULL,
    terms          text[]      NOT NULL DEFAULT '{}',
    submitted_at   timestamptz NOT NULL,  -- event time of the version kept here
    decided_at     timestamptz NOT NULL,  -- event time of the decision that set `status`
    review_id      bigint      NOT NULL   -- the product_reviews row that set `status`
);
CREATE INDEX products_shelf ON products (store_id, product_id) WHERE status IN ('approved', 'listed');
CREATE INDEX products_flagged ON products (decided_at) WHERE status = 'flagged';

-- Every decision ever taken, automatic (a submission, with the content reviewed) or human.
CREATE TABLE product_reviews (
    id           bigserial   PRIMARY KEY,
    product_id   text        NOT NULL,
    store_id     text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('automatic', 'human')),
    status       text        NOT NULL CHECK (status IN ('approved', 'rejected', 'flagged', 'listed')),
    reasons      text[]      NOT NULL,
    matches      jsonb       NOT NULL DEFAULT '[]',  -- [{term, field}] for flagged products
    reviewer     text,
    submission   jsonb,                            -- the product data reviewed (automatic)
    decided_at   timestamptz NOT NULL,
    event_source text        NOT NULL,
    event_id     text        NOT NULL
);
CREATE INDEX product_reviews_product ON product_reviews (product_id, id);
