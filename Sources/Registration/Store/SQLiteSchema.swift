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
        return migrator
    }

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
}
