import Foundation

/// The PostgreSQL store's schema, as numbered migrations.
///
/// Like the SQLite store's: dates are `double precision` seconds since 2001-01-01 00:00:00 UTC (a `Date` is that very
/// `Double`, so it reads back bit for bit, which `timestamptz`'s microseconds would not); identifiers `text`,
/// certificates, nonces and payloads `bytea`, enumerations `text` with their raw values (checked). Every rule of the
/// form "at most one" is a constraint or a unique index, so it holds whichever server commits; the store turns the
/// constraint's name into the error a person reads.
///
/// The version is kept in the table `registration_schema`, one row per migration applied. Migrations run in one
/// transaction under an advisory lock, so that two servers starting at once apply each migration once.
enum PostgresSchema {
    /// The newest version this store knows; a database at a higher one was written by a newer store and is refused.
    static let latestVersion = 5

    /// The advisory lock's first key (its second is the schema's name hashed by the server): "PI" and 14.
    static let lockKey = 0x5049_0014

    /// The statements of each migration, by version. A migration, once released, never changes.
    static let migrations: [Int: [String]] = [1: version1, 2: version2, 3: version3, 4: version4, 5: version5]

    /// Version 1: what the SQLite store's versions 1 and 2 hold, with the same names for tables, columns and
    /// indexes.
    static let version1 = [
        """
        CREATE TABLE registration_schema (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE TABLE business (
            number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            registered_at double precision NOT NULL,
            name text NOT NULL,
            postal_code text NOT NULL,
            address text NOT NULL,
            representative_title text NOT NULL,
            representative_name text NOT NULL,
            corporate_number text,
            phone text NOT NULL,
            CONSTRAINT business_id_key UNIQUE (id)
        )
        """,
        // One business per 法人番号 (businesses without one, sole proprietors, are not counted).
        """
        CREATE UNIQUE INDEX business_corporate_number ON business (corporate_number)
            WHERE corporate_number IS NOT NULL
        """,
        """
        CREATE TABLE qualification (
            business_id text NOT NULL REFERENCES business (id) ON DELETE CASCADE,
            position integer NOT NULL,
            kind text NOT NULL CHECK (kind IN ('manufacturing', 'sales', 'services', 'purchase')),
            grade text NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
            PRIMARY KEY (business_id, position)
        )
        """,
        """
        CREATE TABLE "user" (
            id text NOT NULL,
            business_id text NOT NULL REFERENCES business (id) ON DELETE CASCADE,
            position integer NOT NULL,
            role text NOT NULL CHECK (role IN ('representative', 'agent')),
            title text NOT NULL,
            name text NOT NULL,
            postal_code text NOT NULL,
            address text NOT NULL,
            phone text NOT NULL,
            fax text,
            mail text NOT NULL,
            status text NOT NULL CHECK (status IN ('active', 'deleted')),
            registered_at double precision NOT NULL,
            deleted_at double precision,
            CONSTRAINT user_pkey PRIMARY KEY (id),
            UNIQUE (business_id, id),
            UNIQUE (business_id, position)
        )
        """,
        // One active representative (代表者) per business.
        """
        CREATE UNIQUE INDEX user_one_representative ON "user" (business_id)
            WHERE role = 'representative' AND status = 'active'
        """,
        """
        CREATE TABLE binding (
            id text NOT NULL,
            business_id text NOT NULL,
            user_id text NOT NULL,
            position integer NOT NULL,
            kind text NOT NULL CHECK (kind IN ('icCard', 'fileCertificate', 'myNumberCard')),
            issuer text NOT NULL,
            subject text NOT NULL,
            serial_number text NOT NULL,
            fingerprint text NOT NULL,
            not_valid_before double precision NOT NULL,
            not_valid_after double precision NOT NULL,
            certificate bytea NOT NULL,
            status text NOT NULL CHECK (status IN ('active', 'superseded', 'revoked', 'expired', 'removed')),
            bound_at double precision NOT NULL,
            ended_at double precision,
            superseded_by text,
            CONSTRAINT binding_pkey PRIMARY KEY (id),
            FOREIGN KEY (business_id, user_id) REFERENCES "user" (business_id, id) ON DELETE CASCADE,
            UNIQUE (business_id, position)
        )
        """,
        "CREATE INDEX binding_by_fingerprint ON binding (fingerprint)",
        "CREATE INDEX binding_by_user ON binding (business_id, user_id)",
        // A certificate is active for one user of one business at most, whatever server writes.
        "CREATE UNIQUE INDEX binding_active_fingerprint ON binding (fingerprint) WHERE status = 'active'",
        """
        CREATE TABLE power_of_attorney (
            id text NOT NULL,
            business_id text NOT NULL,
            agent_id text NOT NULL,
            position integer NOT NULL,
            principal text NOT NULL,
            agent text NOT NULL,
            authority text NOT NULL,
            valid_from double precision NOT NULL,
            valid_until double precision NOT NULL,
            provider text NOT NULL,
            reference text NOT NULL,
            is_superseded boolean NOT NULL,
            CONSTRAINT power_of_attorney_pkey PRIMARY KEY (id),
            FOREIGN KEY (business_id, agent_id) REFERENCES "user" (business_id, id) ON DELETE CASCADE,
            UNIQUE (business_id, position)
        )
        """,
        "CREATE INDEX power_of_attorney_by_agent ON power_of_attorney (business_id, agent_id)",
        """
        CREATE TABLE change_record (
            number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL,
            business_id text NOT NULL REFERENCES business (id),
            actor text,
            kind text NOT NULL,
            summary text NOT NULL,
            version integer NOT NULL,
            committed_at double precision NOT NULL,
            CONSTRAINT change_record_id_key UNIQUE (id)
        )
        """,
        "CREATE INDEX change_record_by_business ON change_record (business_id, number)",
        """
        CREATE TABLE outbox (
            number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text NOT NULL,
            change_id text NOT NULL,
            business_id text NOT NULL REFERENCES business (id),
            kind text NOT NULL CHECK (kind IN ('gepsHandOver', 'mail')),
            idempotency_key text NOT NULL,
            payload bytea NOT NULL,
            after_id text,
            state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
            attempts integer NOT NULL CHECK (attempts >= 0),
            created_at double precision NOT NULL,
            next_attempt_at double precision NOT NULL,
            leased_until double precision,
            delivered_at double precision,
            receipt text,
            last_error text,
            CONSTRAINT outbox_id_key UNIQUE (id)
        )
        """,
        // Workers look for pending messages only: a partial index stays small however many were delivered.
        "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending'",
        "CREATE INDEX outbox_by_creation ON outbox (created_at, number)",
        "CREATE INDEX outbox_by_after ON outbox (after_id) WHERE after_id IS NOT NULL",
        """
        CREATE TABLE login_challenge (
            id text NOT NULL,
            nonce bytea NOT NULL,
            issued_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            CONSTRAINT login_challenge_pkey PRIMARY KEY (id)
        )
        """,
        "CREATE INDEX login_challenge_by_expiry ON login_challenge (expires_at)",
    ]

    /// Version 2: the indexes of the lists an operator reads at a prefecture's scale, as the SQLite store's
    /// version 3: the order of registration (a page reads its rows from the index instead of sorting every
    /// business), and the end of validity of active certificate bindings (the list before a renewal season). The
    /// 法人番号 filter uses the unique index of version 1.
    static let version2 = [
        "CREATE INDEX business_by_registration ON business (registered_at, number)",
        "CREATE INDEX binding_active_expiry ON binding (not_valid_after, business_id) WHERE status = 'active'",
    ]

    /// Version 3, as the SQLite store's version 4: `card_challenge` (a challenge for any card step, with its flow,
    /// step and owner) replaces `login_challenge`, whose pending challenges are dropped; `flow_state` keeps a
    /// flow's or a session's state between requests, versioned, with an expiry.
    static let version3 = [
        "DROP TABLE login_challenge",
        """
        CREATE TABLE card_challenge (
            id text NOT NULL,
            nonce bytea NOT NULL,
            flow text NOT NULL,
            step text NOT NULL,
            owner text,
            issued_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            CONSTRAINT card_challenge_pkey PRIMARY KEY (id)
        )
        """,
        "CREATE INDEX card_challenge_by_expiry ON card_challenge (expires_at)",
        """
        CREATE TABLE flow_state (
            id text NOT NULL,
            kind text NOT NULL,
            owner text NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            state bytea NOT NULL,
            updated_at double precision NOT NULL,
            expires_at double precision NOT NULL,
            CONSTRAINT flow_state_pkey PRIMARY KEY (id)
        )
        """,
        "CREATE INDEX flow_state_by_expiry ON flow_state (expires_at)",
    ]

    /// Version 4, as the SQLite store's version 5: `binding (business_id, not_valid_after) WHERE status = 'active'`,
    /// so that the expiry filter's probe of each business, in order of registration, is answered from the index
    /// alone (an index-only scan) instead of reading every binding row of the business.
    static let version4 = [
        """
        CREATE INDEX binding_active_business_expiry ON binding (business_id, not_valid_after)
            WHERE status = 'active'
        """
    ]

    /// Version 5: the identifiers (of businesses, users, bindings, powers of attorney, history entries, outbox
    /// messages, challenges and flows), the certificates' fingerprints and the 法人番号 are compared byte by byte
    /// (`COLLATE "C"`), as SQLite compares them, instead of by the database's collation.
    ///
    /// They are opaque ASCII, which no language sorts, and every look-up, join and foreign-key check walks their
    /// indexes: under a collation other than `C` (Debian's clusters default to the system's locale, `C.UTF-8` or
    /// `ja_JP.UTF-8`), PostgreSQL 15 compares each pair of keys through the C library's `strcoll`. At 100,000
    /// businesses, the probe of each business for the expiry filter took about 2.0 µs instead of 3.6 µs
    /// (`EXPLAIN ANALYZE`). The indexes on these columns are built again (about 6 s at 100,000 businesses, with the
    /// tables locked); the rows are not rewritten. Servers still running meanwhile find their prepared statements
    /// stale (their result types changed): a read or a transaction that meets one is tried once more on a new
    /// connection.
    static let version5 =
        [
            ("business", ["id", "corporate_number"]),
            ("qualification", ["business_id"]),
            ("\"user\"", ["id", "business_id"]),
            ("binding", ["id", "business_id", "user_id", "fingerprint", "superseded_by"]),
            ("power_of_attorney", ["id", "business_id", "agent_id"]),
            ("change_record", ["id", "business_id", "actor"]),
            ("outbox", ["id", "change_id", "business_id", "idempotency_key", "after_id"]),
            ("card_challenge", ["id"]),
            ("flow_state", ["id"]),
        ].map { table, columns in
            "ALTER TABLE \(table) "
                + columns.map { "ALTER COLUMN \($0) TYPE text COLLATE \"C\"" }.joined(separator: ", ")
        }

    /// A name quoted as an SQL identifier (`"a""b"` for `a"b`).
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
