import GRDB

/// The SQLite store's schema, as named migrations.
///
/// Dates are REAL seconds since 2001-01-01 00:00:00 UTC (Foundation's reference date): a `Date` is that very
/// `Double`, so it reads back bit for bit and compares in SQL in time order. Identifiers are TEXT, certificates,
/// nonces and payloads BLOB, enumerations TEXT with their raw values (checked). The rows of a registration carry a
/// `position` so that its lists read back in their order.
enum SQLiteSchema {
    /// Every migration, oldest first. A migration, once released, never changes: a new one is added instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: version1)
        migrator.registerMigration("v2", migrate: version2)
        migrator.registerMigration("v3", migrate: version3)
        migrator.registerMigration("v4", migrate: version4)
        migrator.registerMigration("v5", migrate: version5)
        return migrator
    }

    /// The schema version the newest migration writes into `PRAGMA user_version`; a database whose `user_version`
    /// is higher was written by a newer version of this store, and one whose value is neither 0 (a database
    /// before version 2, or a new file) nor a version of ours was written by another program.
    static let latestVersion = 5

    /// The first schema: businesses with their qualifications, users, certificate bindings and powers of attorney;
    /// the history; the outbox; the login challenges.
    @Sendable static func version1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE business (
                    number INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    registered_at REAL NOT NULL,
                    name TEXT NOT NULL,
                    postal_code TEXT NOT NULL,
                    address TEXT NOT NULL,
                    representative_title TEXT NOT NULL,
                    representative_name TEXT NOT NULL,
                    corporate_number TEXT,
                    phone TEXT NOT NULL
                );

                CREATE TABLE qualification (
                    business_id TEXT NOT NULL REFERENCES business(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('manufacturing', 'sales', 'services', 'purchase')),
                    grade TEXT NOT NULL CHECK (grade IN ('A', 'B', 'C', 'D')),
                    PRIMARY KEY (business_id, position)
                );

                CREATE TABLE "user" (
                    id TEXT PRIMARY KEY NOT NULL,
                    business_id TEXT NOT NULL REFERENCES business(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('representative', 'agent')),
                    title TEXT NOT NULL,
                    name TEXT NOT NULL,
                    postal_code TEXT NOT NULL,
                    address TEXT NOT NULL,
                    phone TEXT NOT NULL,
                    fax TEXT,
                    mail TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'deleted')),
                    registered_at REAL NOT NULL,
                    deleted_at REAL,
                    UNIQUE (business_id, id),
                    UNIQUE (business_id, position)
                );

                CREATE TABLE binding (
                    id TEXT PRIMARY KEY NOT NULL,
                    business_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('icCard', 'fileCertificate', 'myNumberCard')),
                    issuer TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    serial_number TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    not_valid_before REAL NOT NULL,
                    not_valid_after REAL NOT NULL,
                    certificate BLOB NOT NULL,
                    status TEXT NOT NULL
                        CHECK (status IN ('active', 'superseded', 'revoked', 'expired', 'removed')),
                    bound_at REAL NOT NULL,
                    ended_at REAL,
                    superseded_by TEXT,
                    FOREIGN KEY (business_id, user_id) REFERENCES "user"(business_id, id) ON DELETE CASCADE,
                    UNIQUE (business_id, position)
                );
                CREATE INDEX binding_by_fingerprint ON binding(fingerprint);
                CREATE INDEX binding_by_user ON binding(business_id, user_id);
                -- A certificate is active for one user of one business at most, whatever process writes.
                CREATE UNIQUE INDEX binding_active_fingerprint ON binding(fingerprint) WHERE status = 'active';

                CREATE TABLE power_of_attorney (
                    id TEXT PRIMARY KEY NOT NULL,
                    business_id TEXT NOT NULL,
                    agent_id TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    principal TEXT NOT NULL,
                    agent TEXT NOT NULL,
                    authority TEXT NOT NULL,
                    valid_from REAL NOT NULL,
                    valid_until REAL NOT NULL,
                    provider TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    is_superseded INTEGER NOT NULL CHECK (is_superseded IN (0, 1)),
                    FOREIGN KEY (business_id, agent_id) REFERENCES "user"(business_id, id) ON DELETE CASCADE,
                    UNIQUE (business_id, position)
                );
                CREATE INDEX power_of_attorney_by_agent ON power_of_attorney(business_id, agent_id);

                CREATE TABLE change_record (
                    number INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    business_id TEXT NOT NULL REFERENCES business(id),
                    actor TEXT,
                    kind TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    committed_at REAL NOT NULL
                );
                CREATE INDEX change_record_by_business ON change_record(business_id, number);

                CREATE TABLE outbox (
                    number INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    change_id TEXT NOT NULL,
                    business_id TEXT NOT NULL REFERENCES business(id),
                    kind TEXT NOT NULL CHECK (kind IN ('gepsHandOver', 'mail')),
                    idempotency_key TEXT NOT NULL,
                    payload BLOB NOT NULL,
                    after_id TEXT,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
                    attempts INTEGER NOT NULL CHECK (attempts >= 0),
                    created_at REAL NOT NULL,
                    next_attempt_at REAL NOT NULL,
                    leased_until REAL,
                    delivered_at REAL,
                    receipt TEXT,
                    last_error TEXT
                );
                CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
                CREATE INDEX outbox_by_creation ON outbox(created_at, number);

                CREATE TABLE login_challenge (
                    id TEXT PRIMARY KEY NOT NULL,
                    nonce BLOB NOT NULL,
                    issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE INDEX login_challenge_by_expiry ON login_challenge(expires_at);
                """
        )
    }

    /// The rules of the form "at most one" as unique indexes, so that they hold whichever process commits:
    ///
    /// - one business per 法人番号. A business, once registered, is never deleted (the manuals delete users,
    ///   利用者情報削除, never a business, and the representative cannot be deleted), so every stored business
    ///   holds its number. A business without a 法人番号 (a sole proprietor) is not counted. Should a portal one
    ///   day retire a business (廃業, or a merger that closes the absorbed company's number), the retired rows
    ///   leave this index through its `WHERE` clause, and the number can be registered again.
    /// - one active representative (代表者) per business.
    ///
    /// A database that already holds two businesses with one 法人番号 (written before this version) is not
    /// migrated: the error names both, for an operator to decide which stays.
    @Sendable static func version2(_ db: Database) throws {
        if let row = try Row.fetchOne(
            db,
            sql: """
                SELECT corporate_number, group_concat(id, ', ') AS ids FROM business
                WHERE corporate_number IS NOT NULL GROUP BY corporate_number HAVING count(*) > 1 LIMIT 1
                """)
        {
            let number = String.fromDatabaseValue(row[0] as DatabaseValue) ?? "?"
            let ids = String.fromDatabaseValue(row[1] as DatabaseValue) ?? "?"
            throw RegistrationError.storeFailure(
                "the database holds several businesses with 法人番号 \(number) (\(ids)), which this version refuses; "
                    + "keep one of them (an operator's decision), then open the database again")
        }
        try db.execute(
            sql: """
                CREATE UNIQUE INDEX business_corporate_number ON business(corporate_number)
                    WHERE corporate_number IS NOT NULL;
                CREATE UNIQUE INDEX user_one_representative ON "user"(business_id)
                    WHERE role = 'representative' AND status = 'active';
                PRAGMA user_version = 2;
                """)
    }

    /// The indexes of the lists an operator reads at a prefecture's scale (``RegistrationPage``):
    ///
    /// - `business (registered_at, number)`: the order of registration, so that a page (`LIMIT`, and the start after
    ///   the previous page's last business) reads its rows from the index instead of sorting every business;
    /// - `binding (not_valid_after, business_id) WHERE status = 'active'`: the businesses whose active certificate
    ///   expires within some days (the list before a renewal season).
    ///
    /// The 法人番号 filter uses the unique index of version 2.
    @Sendable static func version3(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE INDEX business_by_registration ON business(registered_at, number);
                CREATE INDEX binding_active_expiry ON binding(not_valid_after, business_id) WHERE status = 'active';
                PRAGMA user_version = 3;
                """)
    }

    /// The state a server keeps between requests, for any of its instances:
    ///
    /// - `card_challenge` replaces `login_challenge`: a challenge is for any card step now (its flow and step), and
    ///   may be issued to one session or flow (`owner`). Challenges live for minutes; those pending when the
    ///   database is migrated are dropped (their logins ask for a new one).
    /// - `flow_state`: a flow's (or session's) state between requests, versioned, with an expiry.
    @Sendable static func version4(_ db: Database) throws {
        try db.execute(
            sql: """
                DROP TABLE login_challenge;
                CREATE TABLE card_challenge (
                    id TEXT PRIMARY KEY NOT NULL,
                    nonce BLOB NOT NULL,
                    flow TEXT NOT NULL,
                    step TEXT NOT NULL,
                    owner TEXT,
                    issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE INDEX card_challenge_by_expiry ON card_challenge(expires_at);
                CREATE TABLE flow_state (
                    id TEXT PRIMARY KEY NOT NULL,
                    kind TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    state BLOB NOT NULL,
                    updated_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE INDEX flow_state_by_expiry ON flow_state(expires_at);
                PRAGMA user_version = 4;
                """)
    }

    /// The index that answers "has this business an active certificate binding expiring in this range?" from the
    /// index alone: `binding (business_id, not_valid_after) WHERE status = 'active'`.
    ///
    /// When many businesses have a certificate expiring in the range (a renewal season's list), a page reads the
    /// businesses in order of registration and asks this question of each until the page is full, instead of
    /// looking up and sorting every business of the range (``RegistrationPage``). Version 3's
    /// `binding_active_expiry` stays, for ranges that few businesses fall in.
    @Sendable static func version5(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE INDEX binding_active_business_expiry ON binding(business_id, not_valid_after)
                    WHERE status = 'active';
                PRAGMA user_version = 5;
                """)
    }
}
