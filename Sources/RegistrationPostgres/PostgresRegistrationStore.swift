public import Foundation
public import Logging
import PostgresNIO
public import Registration
import X509

/// A `RegistrationStore` in a PostgreSQL database, shared by every server of a portal.
///
/// Every method is one transaction on one connection of the store's own (at most
/// ``PostgresStoreConfiguration/maximumConnections``). The rules of the form "at most one" are the database's
/// constraints (one active binding of a certificate, one business per 法人番号, one active representative), so they
/// hold whichever server commits, and the store turns a violated constraint (SQLSTATE 23505 and its name) into the
/// same `RegistrationError` as the other stores. A commit checks the expected version with
/// `UPDATE … WHERE version = $expected`: of two servers committing over one version, the second finds the row
/// changed and gets `RegistrationError.staleChange`. A login challenge is taken with
/// `DELETE … RETURNING`, so it is taken once; outbox workers lease messages with `FOR UPDATE SKIP LOCKED`, so
/// several workers never lease one message together.
///
/// Errors never hold the password (nor a URL with it) nor the personal data of a row: a server that is down, a
/// refused login or a lost connection is a `RegistrationError.storeFailure` that says which, and
/// a row that cannot be read back a `RegistrationError.storeUnreadable`.
///
/// ```swift
/// let store = try await PostgresRegistrationStore(
///     try PostgresStoreConfiguration(url: "postgres://portal@db.example.jp/portal"))
/// try await store.commit(commit)
/// ```
public final class PostgresRegistrationStore: RegistrationStore {
    /// Where the store connects (its description never holds the password).
    public let configuration: PostgresStoreConfiguration
    private let pool: ConnectionPool
    private let logger: Logger

    /// Connects to the database, creates the schema when the configuration names one that is missing, and migrates
    /// it to the current version.
    ///
    /// A command that only reads passes `createIfMissing: false`: a mistyped schema or database then says so instead
    /// of leaving empty tables behind.
    ///
    /// - Throws: `RegistrationError.storeFailure` when the server cannot be reached, refuses the
    ///   login, has no such database, holds no registration tables (with `createIfMissing: false`), holds a
    ///   schema written by a newer version of this store or tables of another program, or refuses a migration because
    ///   an object of the database's own (a view) depends on what it changes; a refused migration changes nothing.
    public init(
        _ configuration: PostgresStoreConfiguration, createIfMissing: Bool = true,
        logger: Logger = Logger(label: "RegistrationPostgres")
    ) async throws(RegistrationError) {
        self.configuration = configuration
        self.logger = logger
        pool = try ConnectionPool(configuration, logger: logger)
        do {
            try await migrate(createIfMissing: createIfMissing)
        } catch {
            await pool.shutdown()
            throw error
        }
    }

    deinit {
        let pool = pool
        Task { await pool.shutdown() }
    }

    /// Closes the store's idle connections; the store takes no new work after.
    public func close() async {
        await pool.shutdown()
    }

    // MARK: Migrations

    private func migrate(createIfMissing: Bool) async throws(RegistrationError) {
        let location = configuration.description
        let schema = configuration.schema
        try await transaction("migrating the database") { connection, logger in
            let name = schema ?? "public"
            // Two servers starting at once: the second waits here until the first committed its migrations.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Int32(PostgresSchema.lockKey)), hashtext(\(name)))", logger: logger)
            if let schema, createIfMissing {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(PostgresSchema.identifier(schema))"),
                    logger: logger)
            }
            var tables: Set<String> = []
            for try await (table) in try await connection.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \(name)", logger: logger
            ).decode(String.self) {
                tables.insert(table)
            }
            var version = 0
            if tables.contains("registration_schema") {
                for try await (applied) in try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT coalesce(max(version), 0) FROM \(PostgresSchema.identifier(name)).registration_schema"
                    ), logger: logger
                ).decode(Int.self) {
                    version = applied
                }
                if version > PostgresSchema.latestVersion {
                    throw RegistrationError.storeFailure(
                        "the database at \(location) has schema version \(version), written by a newer version of "
                            + "this store (this one knows versions up to \(PostgresSchema.latestVersion)); use that "
                            + "version")
                }
            } else if !tables.isEmpty {
                throw RegistrationError.storeFailure(
                    "the schema \(name) of the database at \(location) holds tables of another program, not a "
                        + "registration database; choose another database or schema")
            } else if !createIfMissing {
                throw RegistrationError.storeFailure(
                    "there is no registration database at \(location); check the URL (a command that only reads "
                        + "creates none)")
            }
            while version < PostgresSchema.latestVersion {
                version += 1
                for statement in PostgresSchema.migrations[version] ?? [] {
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    } catch let error as PSQLError {
                        if let refusal = PostgresFailure.migrationRefused(error, to: version, at: location) {
                            throw refusal
                        }
                        throw error
                    }
                }
                try await connection.query(
                    "INSERT INTO registration_schema (version) VALUES (\(version))", logger: logger)
            }
        }
    }

    // MARK: Reading

    public func registration(_ id: BusinessID) async throws(RegistrationError) -> BusinessRegistration? {
        try await reading("reading registration \(id)") { connection, logger in
            try await Self.loadRegistrations([id.rawValue], connection, logger).first
        }
    }

    public func registration(ofUser id: UserID) async throws(RegistrationError) -> BusinessRegistration? {
        try await registration(
            where: IdentifierStatement<IdentifierQueries.OfUser>(id.rawValue), "reading the registration of user \(id)")
    }

    public func registration(boundTo fingerprint: String) async throws(RegistrationError) -> BusinessRegistration? {
        // An active binding wins; otherwise the registration that bound the certificate last.
        try await registration(
            where: IdentifierStatement<IdentifierQueries.BoundTo>(fingerprint),
            "reading the registration of a certificate")
    }

    public func holder(ofCertificate fingerprint: String) async throws(RegistrationError) -> CertificateHolder? {
        try await reading("reading the holder of a certificate") { connection, logger in
            // The binding registration(boundTo:) chooses the business by is also the one chosen in it: an active
            // binding wins, otherwise the one bound last.
            guard
                let row = try await Self.rows(
                    """
                    SELECT * FROM binding WHERE fingerprint = \(fingerprint)
                    ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
                    """, table: "binding", connection, logger
                ).first
            else { return nil }
            let binding = try Self.binding(row)
            let businessID: String = try row.value("business_id")
            guard
                let user = try await Self.rows(
                    """
                    SELECT "user".*, business.name AS business_name FROM "user"
                    JOIN business ON business.id = "user".business_id
                    WHERE "user".id = \(binding.userID.rawValue) AND "user".business_id = \(businessID)
                    """, table: "user", connection, logger
                ).first
            else { throw RegistrationError.userNotFound(binding.userID) }
            return CertificateHolder(
                businessID: BusinessID(rawValue: businessID),
                businessName: try CertificateHolder.storedBusinessName(try user.value("business_name")),
                binding: binding, user: try Self.user(user))
        }
    }

    public func registration(corporateNumber: CorporateNumber) async throws(RegistrationError)
        -> BusinessRegistration?
    {
        try await registration(
            where: IdentifierStatement<IdentifierQueries.OfCorporateNumber>(corporateNumber.digits),
            "reading the registration of a 法人番号")
    }

    /// The registration whose identifier a prepared statement answers, read on the same connection.
    private func registration<Statement: PostgresPreparedStatement>(where statement: Statement, _ activity: String)
        async throws(RegistrationError) -> BusinessRegistration? where Statement.Row == String
    {
        try await reading(activity) { connection, logger in
            try await Self.loadRegistrations(Self.identifiers(statement, connection, logger), connection, logger).first
        }
    }

    /// The identifiers a query answers (one text column).
    private static func identifiers(_ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [String]
    {
        var ids: [String] = []
        for try await id in try await connection.query(query, logger: logger).decode(String.self) { ids.append(id) }
        return ids
    }

    /// The identifiers a prepared statement answers.
    private static func identifiers<Statement: PostgresPreparedStatement>(
        _ statement: Statement, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [String] where Statement.Row == String {
        var ids: [String] = []
        for try await id in try await connection.execute(statement, logger: logger) { ids.append(id) }
        return ids
    }

    public func registrations() async throws(RegistrationError) -> [BusinessRegistration] {
        try await reading("reading the registrations") { connection, logger in
            let ids = try await Self.identifiers(
                "SELECT id FROM business ORDER BY registered_at, number", connection, logger)
            return try await Self.loadRegistrations(ids, connection, logger)
        }
    }

    public func registrations(_ page: RegistrationPage) async throws(RegistrationError) -> [BusinessRegistration] {
        guard page.limit > 0 else { return [] }
        let (sql, arguments) = page.sql(placeholder: { "$\($0)" }, contains: "strpos")
        return try await reading("reading a page of the registrations") { connection, logger in
            let bindings = try Self.bindings(arguments)
            typealias FirstPage = IdentifierStatement<IdentifierQueries.FirstPage>
            typealias PageAfter = IdentifierStatement<IdentifierQueries.PageAfter>
            let ids: [String]
            switch sql {
            case FirstPage.sql where FirstPage.takes(arguments):
                ids = try await Self.identifiers(FirstPage(bindings: bindings), connection, logger)
            case PageAfter.sql where PageAfter.takes(arguments):
                ids = try await Self.identifiers(PageAfter(bindings: bindings), connection, logger)
            default:
                ids = try await Self.identifiers(PostgresQuery(unsafeSQL: sql, binds: bindings), connection, logger)
            }
            return try await Self.loadRegistrations(ids, connection, logger)
        }
    }

    /// The query of a page's identifiers (see `RegistrationPage`), its arguments bound.
    private static func query(of page: RegistrationPage, prefix: String = "") throws -> PostgresQuery {
        let (sql, arguments) = page.sql(placeholder: { "$\($0)" }, contains: "strpos")
        return PostgresQuery(unsafeSQL: prefix + sql, binds: try bindings(arguments))
    }

    /// Values as PostgreSQL arguments.
    private static func bindings(_ values: [ColumnValue]) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: bindings.appendNull()
            case .text(let text): bindings.append(text)
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .bytes(let bytes): try bindings.append(Data(bytes))
            case .boolean(let boolean): bindings.append(boolean)
            }
        }
        return bindings
    }

    public func history(of id: BusinessID) async throws(RegistrationError) -> [ChangeRecord] {
        try await reading("reading the history of \(id)") { connection, logger in
            try await Self.rows(
                "SELECT * FROM change_record WHERE business_id = \(id.rawValue) ORDER BY number",
                table: "change_record",
                connection, logger
            ).map(Self.changeRecord)
        }
    }

    public func outbox(state: OutboxMessage.State?) async throws(RegistrationError) -> [OutboxMessage] {
        try await reading("reading the outbox") { connection, logger in
            let query: PostgresQuery =
                if let state {
                    "SELECT * FROM outbox WHERE state = \(state.rawValue) ORDER BY created_at, number"
                } else {
                    "SELECT * FROM outbox ORDER BY created_at, number"
                }
            return try await Self.rows(query, table: "outbox", connection, logger).map(Self.outboxMessage)
        }
    }

    // MARK: Writing

    public func commit(_ commit: RegistrationCommit) async throws(RegistrationError) {
        try commit.checkConsistency()
        try await transaction("committing a change to registration \(commit.registration.id)") { connection, logger in
            let registration = commit.registration
            let id = registration.id.rawValue
            let business = registration.business
            let number = business.corporateNumber
            let constraints: [String: RegistrationError] = [
                "business_id_key": .staleChange(registration.id)
            ].merging(number.map { ["business_corporate_number": .corporateNumberAlreadyRegistered($0)] } ?? [:]) {
                $1
            }
            var stored: [String: [ChildRow]] = [:]
            if commit.expectedVersion == 0 {
                let changed = try await Self.count(
                    """
                    INSERT INTO business (id, version, registered_at, name, postal_code, address, representative_title,
                        representative_name, corporate_number, phone)
                    VALUES (\(id), \(registration.version), \(Self.time(registration.registeredAt)), \(business.name),
                        \(business.postalCode.text), \(business.address), \(business.representativeTitle),
                        \(business.representativeName), \(number?.digits), \(business.phone.text))
                    ON CONFLICT (id) DO NOTHING
                    RETURNING 1
                    """, constraints, connection, logger)
                if changed == 0 { throw RegistrationError.staleChange(registration.id) }
            } else {
                // One round trip: the versioned UPDATE, and the stored rows to compare the new ones with. The rows are
                // those of the statement's snapshot, taken before the UPDATE waited for the row's lock, if it did:
                // when that snapshot saw the expected version, no commit of the registration came between (every
                // commit raises the version), and they are the rows now; otherwise they are read again.
                // A prepared statement: the connection parses and plans it once, not on every commit.
                let update = ChildRowsQuery.VersionedUpdate(
                    bindings: try Self.bindings(
                        [
                            .text(id), .integer(commit.expectedVersion), .integer(registration.version),
                            .real(Self.time(registration.registeredAt)), .text(business.name),
                            .text(business.postalCode.text), .text(business.address),
                            .text(business.representativeTitle),
                            .text(business.representativeName), number.map { .text($0.digits) } ?? .null,
                            .text(business.phone.text),
                        ]))
                let records = try await Self.rows(update, table: "business", constraints, connection, logger)
                let header = try ChildRowsQuery.header(records)
                if header.updated == 0 { throw RegistrationError.staleChange(registration.id) }
                if header.version == commit.expectedVersion {
                    stored = try ChildRowsQuery.rows(records)
                } else {
                    stored = try await Self.storedRows(of: id, connection, logger)
                }
            }
            // Only what changed is written: the stored rows (none for a new registration) against the new ones. The
            // last write goes in one statement with the history entry and the outbox messages.
            var writes = try RegistrationRows.writes(from: stored, to: registration, placeholder: { "$\($0)" })
            let last = writes.popLast()
            for write in writes {
                try await Self.execute(write, connection, logger)
            }
            try await Self.insert(commit.record, commit.outbox, after: last, connection, logger)
        }
    }

    public func insert(_ challenge: IssuedChallenge) async throws(RegistrationError) {
        let purpose = challenge.challenge.purpose
        try await transaction("keeping a card challenge") { connection, logger in
            _ = try await Self.count(
                """
                INSERT INTO card_challenge (id, nonce, flow, step, owner, issued_at, expires_at)
                VALUES (\(challenge.id), \(Data(challenge.challenge.nonce)), \(purpose.flow), \(purpose.step),
                    \(challenge.owner), \(Self.time(challenge.issuedAt)), \(Self.time(challenge.expiresAt)))
                """,
                ["card_challenge_pkey": .storeFailure("a card challenge \(challenge.id) exists already")], connection,
                logger)
        }
    }

    public func takeChallenge(_ id: String) async throws(RegistrationError) -> IssuedChallenge? {
        // One statement: of two servers taking the same challenge at once, the second finds no row to delete.
        try await transaction("taking a card challenge") { connection, logger in
            try await Self.rows(
                "DELETE FROM card_challenge WHERE id = \(id) RETURNING *", table: "card_challenge", connection, logger
            ).first.map { (row: StoredRecord) throws(RegistrationError) in
                try IssuedChallenge(
                    stored: try row.value("id"), nonce: try row.bytes("nonce"), flow: try row.value("flow"),
                    step: try row.value("step"), owner: try row.optional("owner"), issuedAt: try row.date("issued_at"),
                    expiresAt: try row.date("expires_at"))
            }
        }
    }

    public func purgeChallenges(expiredBefore date: Date) async throws(RegistrationError) -> Int {
        try await transaction("purging expired card challenges") { connection, logger in
            try await Self.count(
                "DELETE FROM card_challenge WHERE expires_at < \(Self.time(date)) RETURNING 1", [:], connection, logger
            )
        }
    }

    public func flow(_ id: String) async throws(RegistrationError) -> StoredFlow? {
        try await reading("reading a flow") { connection, logger in
            try await Self.rows("SELECT * FROM flow_state WHERE id = \(id)", table: "flow_state", connection, logger)
                .first.map { (row: StoredRecord) throws(RegistrationError) in
                    StoredFlow(
                        id: try row.value("id"), kind: try row.value("kind"), owner: try row.value("owner"),
                        version: try row.value("version"), state: Data(try row.bytes("state")),
                        updatedAt: try row.date("updated_at"), expiresAt: try row.date("expires_at"))
                }
        }
    }

    public func save(_ flow: StoredFlow) async throws(RegistrationError) {
        guard flow.version >= 1 else { throw .flowChanged(flow.id) }
        let changed = try await transaction("saving a flow") { connection, logger in
            if flow.version == 1 {
                return try await Self.count(
                    """
                    INSERT INTO flow_state (id, kind, owner, version, state, updated_at, expires_at)
                    VALUES (\(flow.id), \(flow.kind), \(flow.owner), 1, \(flow.state), \(Self.time(flow.updatedAt)),
                        \(Self.time(flow.expiresAt)))
                    ON CONFLICT (id) DO NOTHING RETURNING 1
                    """, [:], connection, logger)
            }
            return try await Self.count(
                """
                UPDATE flow_state SET version = \(Int32(flow.version)), state = \(flow.state),
                    updated_at = \(Self.time(flow.updatedAt)), expires_at = \(Self.time(flow.expiresAt))
                WHERE id = \(flow.id) AND version = \(Int32(flow.version - 1)) AND kind = \(flow.kind)
                    AND owner = \(flow.owner)
                RETURNING 1
                """, [:], connection, logger)
        }
        guard changed == 1 else { throw .flowChanged(flow.id) }
    }

    public func removeFlow(_ id: String) async throws(RegistrationError) -> Bool {
        try await transaction("removing a flow") { connection, logger in
            try await Self.count("DELETE FROM flow_state WHERE id = \(id) RETURNING 1", [:], connection, logger) == 1
        }
    }

    public func purgeFlows(expiredBefore date: Date) async throws(RegistrationError) -> Int {
        try await transaction("purging expired flows") { connection, logger in
            try await Self.count(
                "DELETE FROM flow_state WHERE expires_at < \(Self.time(date)) RETURNING 1", [:], connection, logger)
        }
    }

    public func leaseDueMessages(at date: Date, limit: Int, leaseUntil: Date) async throws(RegistrationError)
        -> [OutboxMessage]
    {
        guard limit > 0 else { return [] }
        let now = Self.time(date)
        return try await transaction("leasing due outbox messages") { connection, logger in
            // Rows another worker is leasing right now are skipped, not waited for: each message goes to one worker.
            let rows = try await Self.rows(
                """
                WITH due AS (
                    SELECT number FROM outbox AS message
                    WHERE state = 'pending' AND next_attempt_at <= \(now)
                        AND (leased_until IS NULL OR leased_until < \(now))
                        AND (after_id IS NULL OR EXISTS (
                            SELECT 1 FROM outbox AS first WHERE first.id = message.after_id AND first.state = 'delivered'))
                    ORDER BY created_at, number
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE outbox SET leased_until = \(Self.time(leaseUntil)) FROM due WHERE outbox.number = due.number
                RETURNING outbox.*
                """, table: "outbox", connection, logger)
            var leased: [(number: Int, message: OutboxMessage)] = []
            for row in rows { leased.append((try row.value("number", as: Int.self), try Self.outboxMessage(row))) }
            return leased.sorted { lhs, rhs in
                lhs.message.createdAt != rhs.message.createdAt
                    ? lhs.message.createdAt < rhs.message.createdAt : lhs.number < rhs.number
            }.map(\.message)
        }
    }

    public func record(_ outcome: DeliveryOutcome, for id: OutboxMessageID, at date: Date)
        async throws(RegistrationError)
    {
        try await transaction("recording a delivery of outbox message \(id)") { connection, logger in
            guard
                let row = try await Self.rows(
                    "SELECT * FROM outbox WHERE id = \(id.rawValue) FOR UPDATE", table: "outbox", connection, logger
                ).first
            else { throw RegistrationError.outboxMessageNotFound(id) }
            var message = try Self.outboxMessage(row)
            message.apply(outcome, at: date)
            try await connection.query(
                """
                UPDATE outbox SET state = \(message.state.rawValue), attempts = \(message.attempts),
                    next_attempt_at = \(Self.time(message.nextAttemptAt)),
                    leased_until = \(message.leasedUntil.map(Self.time)),
                    delivered_at = \(message.deliveredAt.map(Self.time)), receipt = \(message.receipt),
                    last_error = \(message.lastError)
                WHERE id = \(id.rawValue)
                """, logger: logger)
        }
    }

    public func requeue(_ id: OutboxMessageID, at date: Date) async throws(RegistrationError) -> [OutboxMessageID] {
        try await transaction("requeueing outbox message \(id)") { connection, logger in
            guard
                let row = try await Self.rows(
                    "SELECT * FROM outbox WHERE id = \(id.rawValue) FOR UPDATE", table: "outbox", connection, logger
                ).first
            else { throw RegistrationError.outboxMessageNotFound(id) }
            let state: OutboxMessage.State = try row.enumeration("state")
            guard state == .failed else {
                throw RegistrationError.changeNotAllowed("outbox message \(id) is \(state.rawValue), not failed")
            }
            var requeued: [String] = []
            for try await (requeuedID) in try await connection.query(
                """
                UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(Self.time(date)),
                    leased_until = NULL
                WHERE id = \(id.rawValue) OR (after_id = \(id.rawValue) AND state = 'failed')
                RETURNING id
                """, logger: logger
            ).decode(String.self) {
                requeued.append(requeuedID)
            }
            // The message first, then those that wait for it.
            return ([id.rawValue] + requeued.filter { $0 != id.rawValue }.sorted()).map(OutboxMessageID.init(rawValue:))
        }
    }

    // MARK: Maintenance

    /// The tables whose statistics ``analyze()`` refreshes: those the page reads and the commits query.
    static let analyzedTables = [
        "business", "qualification", "\"user\"", "binding", "power_of_attorney", "change_record", "outbox",
    ]

    /// Refreshes the planner's statistics of the store's tables (`ANALYZE business, "user", binding, …`, named, so
    /// that only the store's own schema is read).
    ///
    /// PostgreSQL plans each query from these statistics. After a bulk import (many registrations written at once,
    /// for example when a portal moves from another system) the statistics describe the tables as they were
    /// before, until autovacuum analyzes them; meanwhile the planner may read whole tables where an index would
    /// answer (at 100,000 businesses, a page of 100 took 90 ms before `ANALYZE`, 9–20 ms after). Call it after such
    /// an import; ordinary commits need not, autovacuum keeps the statistics current. It reads a sample of each
    /// table (about a second at 100,000 businesses) and takes no lock that blocks reads or commits.
    public func analyze() async throws(RegistrationError) {
        try await transaction("analyzing the tables") { connection, logger in
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "ANALYZE " + Self.analyzedTables.joined(separator: ", ")), logger: logger)
        }
    }

    // MARK: Diagnostics (tests) and seeding (benchmark)

    /// PostgreSQL's plan of the query that reads `page` (`EXPLAIN (FORMAT JSON)`), as JSON text; `settings` run
    /// first in the same transaction (e.g. `SET LOCAL enable_seqscan = off`).
    package func plan(of page: RegistrationPage, settings: [String] = []) async throws(RegistrationError) -> String {
        try await transaction("explaining the query of a page") { connection, logger in
            for setting in settings { try await connection.query(PostgresQuery(unsafeSQL: setting), logger: logger) }
            var plan = ""
            for try await (text) in try await connection.query(
                Self.query(of: page, prefix: "EXPLAIN (FORMAT JSON) "), logger: logger
            ).decode(String.self) {
                plan += text
            }
            return plan
        }
    }

    /// Stores new registrations in one transaction with one multi-row `INSERT` per table (a batch of 200
    /// registrations at a time), without history or outbox: the fast path that seeds a benchmark's database. Not a
    /// commit: no version check, no history.
    package func seed(_ registrations: [BusinessRegistration]) async throws(RegistrationError) {
        try await transaction("seeding registrations") { connection, logger in
            for batch in stride(from: 0, to: registrations.count, by: 200) {
                let chunk = Array(registrations[batch..<min(batch + 200, registrations.count)])
                for (sql, arguments) in try RegistrationRows.bulkInserts(chunk, placeholder: { "$\($0)" }) {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: sql, binds: try Self.bindings(arguments)), logger: logger)
                }
            }
        }
    }

    /// The SQL of a commit's first statement, the business row's versioned `UPDATE` with the stored child rows
    /// (`$1` the identifier, `$2` the expected version, `$3`…`$11` the new version and the business's fields): the
    /// benchmark runs it under pgbench, as the yardstick of what the commit's SQL costs without this client.
    package static var versionedUpdateSQL: String { ChildRowsQuery.VersionedUpdate.sql }

    /// Runs raw SQL statements in one transaction: lets tests check what the schema refuses and alter tables behind
    /// the store.
    package func execute(sql statements: String...) async throws(RegistrationError) {
        try await transaction("running SQL") { connection, logger in
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// The column `value` of the first row of a query, which must be text (e.g. `SELECT count(*)::text AS value`).
    package func text(sql: String) async throws(RegistrationError) -> String? {
        try await transaction("running a query") { connection, logger in
            try await Self.rows(PostgresQuery(unsafeSQL: sql), table: "query", connection, logger).first.flatMap {
                (row: StoredRecord) throws(RegistrationError) in try row.optional("value", as: String.self)
            }
        }
    }

    // MARK: Transactions

    /// A leased connection on which `first` succeeded, with what it returned. `first` must change nothing (reads, or
    /// `BEGIN`): a connection found lost there, one that broke while idle (the server restarted), or one whose
    /// prepared statements went stale (another server migrated the schema), is dropped with the other idle ones and
    /// `first` tried once more on a new connection. On any other failure the connection is given back (kept when
    /// `keepAfterFailure` and `reusable(_:after:)` say so) and the error thrown as a store error.
    private func leased<T: Sendable>(
        _ activity: String, keepAfterFailure: Bool = true, _ first: (PostgresConnection) async throws -> T
    ) async throws(RegistrationError) -> (connection: PostgresConnection, result: T) {
        let location = configuration.description
        var attempt = 0
        while true {
            attempt += 1
            let connection: PostgresConnection
            do { connection = try await pool.lease() } catch {
                throw PostgresFailure.error(error, while: activity, at: location, connecting: true)
            }
            do {
                return (connection, try await first(connection))
            } catch {
                await pool.release(connection, reusable: keepAfterFailure && Self.reusable(connection, after: error))
                if attempt == 1,
                    PostgresFailure.isConnectionLost(error) || PostgresFailure.isStalePreparedStatement(error)
                {
                    await pool.dropIdle()
                    continue
                }
                throw PostgresFailure.error(error, while: activity, at: location)
            }
        }
    }

    /// Whether a connection may go back to the pool after `error`. Not after the server refused a statement:
    /// postgres-nio remembers a prepare that failed on a connection and answers every later execution of that
    /// statement there with the same error. (Constraint violations reach the callers already mapped to store
    /// errors, so a refused duplicate keeps its connection.)
    private static func reusable(_ connection: PostgresConnection, after error: any Error) -> Bool {
        !connection.isClosed && !(error is PSQLError)
    }

    /// Runs reads without `BEGIN` and `COMMIT` (each statement is its own transaction, and under read committed a
    /// transaction's statements would not share a snapshot either): one round trip per statement instead of three.
    /// A read is sent again on a new connection when its connection is found lost.
    private func reading<T: Sendable>(
        _ activity: String, _ body: (PostgresConnection, Logger) async throws -> T
    ) async throws(RegistrationError) -> T {
        let (connection, result) = try await leased(activity) { connection in try await body(connection, logger) }
        await pool.release(connection, reusable: true)
        return result
    }

    /// One transaction on a connection of the pool: committed when `body` returns, rolled back when it throws.
    ///
    /// A connection that broke while idle (the server restarted) is found at `BEGIN`, before anything was sent:
    /// the transaction is then tried once more on a new connection. So is a transaction whose prepared statement
    /// went stale (another server migrated the schema since this connection prepared it): the server aborted it, so
    /// nothing of it was kept, and the idle connections, whose statements are stale too, are closed.
    private func transaction<T: Sendable>(
        _ activity: String, _ body: (PostgresConnection, Logger) async throws -> T
    ) async throws(RegistrationError) -> T {
        let location = configuration.description
        var attempt = 0
        while true {
            attempt += 1
            // A failed `BEGIN` leaves the connection in a state not known: never kept.
            let (connection, _) = try await leased(activity, keepAfterFailure: false) { connection in
                _ = try await connection.query("BEGIN", logger: logger)
            }
            let result: T
            do {
                result = try await body(connection, logger)
            } catch {
                var reusable = Self.reusable(connection, after: error)
                if reusable {
                    do { try await connection.query("ROLLBACK", logger: logger) } catch { reusable = false }
                }
                await pool.release(connection, reusable: reusable)
                if attempt == 1, PostgresFailure.isStalePreparedStatement(error) {
                    await pool.dropIdle()
                    continue
                }
                throw PostgresFailure.error(error, while: activity, at: location)
            }
            return try await commitTransaction(on: connection, returning: result, activity)
        }
    }

    /// Commits the transaction on `connection`, gives the connection back and returns `result`.
    private func commitTransaction<T: Sendable>(
        on connection: PostgresConnection, returning result: T, _ activity: String
    )
        async throws(RegistrationError) -> T
    {
        let location = configuration.description
        do {
            try await connection.query("COMMIT", logger: logger)
        } catch {
            await pool.release(connection, reusable: false)
            throw PostgresFailure.error(error, while: activity, at: location, committing: true)
        }
        await pool.release(connection, reusable: true)
        return result
    }

    // MARK: Queries

    /// The rows of a query, each ready to be read with typed errors.
    private static func rows(
        _ query: PostgresQuery, table: String, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [StoredRecord] {
        try await connection.query(query, logger: logger).collect().map { StoredRecord($0, table: table) }
    }

    /// The rows of a statement that writes; a violated constraint named in `constraints` becomes that error.
    private static func rows(
        _ query: PostgresQuery, table: String, _ constraints: [String: RegistrationError],
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [StoredRecord] {
        do {
            return try await rows(query, table: table, connection, logger)
        } catch let error as PSQLError {
            if let constraint = PostgresFailure.violatedUniqueConstraint(error), let mapped = constraints[constraint] {
                throw mapped
            }
            throw error
        }
    }

    /// The rows of a prepared statement that writes; a violated constraint named in `constraints` becomes that
    /// error.
    private static func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, table: String, _ constraints: [String: RegistrationError],
        _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [StoredRecord] where Statement.Row == PostgresRow {
        do {
            var records: [StoredRecord] = []
            for try await row in try await connection.execute(statement, logger: logger) {
                records.append(StoredRecord(row, table: table))
            }
            return records
        } catch let error as PSQLError {
            if let constraint = PostgresFailure.violatedUniqueConstraint(error), let mapped = constraints[constraint] {
                throw mapped
            }
            throw error
        }
    }

    /// Runs a statement that returns one row per row it changed, and counts them; a violated constraint named in
    /// `constraints` becomes that error.
    private static func count(
        _ query: PostgresQuery, _ constraints: [String: RegistrationError], _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> Int {
        do {
            return try await connection.query(query, logger: logger).collect().count
        } catch let error as PSQLError {
            if let constraint = PostgresFailure.violatedUniqueConstraint(error), let mapped = constraints[constraint] {
                throw mapped
            }
            throw error
        }
    }

    // MARK: Rows → values

    private static func time(_ date: Date) -> Double { date.timeIntervalSinceReferenceDate }

    /// The registrations of `ids`, in that order, read in one statement (``RegistrationReadQuery``).
    private static func loadRegistrations(_ ids: [String], _ connection: PostgresConnection, _ logger: Logger)
        async throws -> [BusinessRegistration]
    {
        guard !ids.isEmpty else { return [] }
        do {
            return try await loadRegistrationsInOneStatement(ids, connection, logger)
        } catch let error as PSQLError where RegistrationReadQuery.isSchemaMismatch(error) {
            let registrations = try await loadRegistrationsTableByTable(ids, connection, logger)
            // postgres-nio keeps the failed prepare on this connection: closed, the pool opens a new one, which
            // prepares the statement again (once the schema is repaired, the one-statement read is back).
            try? await connection.close()
            return registrations
        }
    }

    /// A row of a child table, read.
    private enum ChildValue {
        case qualification(Qualification)
        case user(User)
        case binding(CertificateBinding)
        case powerOfAttorney(PowerOfAttorney)
    }

    private static func loadRegistrationsInOneStatement(
        _ ids: [String], _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [BusinessRegistration] {
        var registrations: [String: BusinessRegistration] = [:]
        registrations.reserveCapacity(ids.count)
        // The rows come unsorted, as the server reads them (a sort would hold them back until the last is read): each
        // is decoded as it comes, and the lists are put in order at the end, by sorting their keys (not the values).
        var children: [ChildValue?] = []
        var keys: [(tag: Int, position: Int, business: String, child: Int)] = []
        for try await row in try await connection.execute(RegistrationReadQuery.Statement(ids: ids), logger: logger) {
            let (tag, record) = try RegistrationReadQuery.record(row)
            if tag == 0 {
                let registration = try business(record)
                registrations[registration.id.rawValue] = registration
                continue
            }
            let id: String = try record.value("business_id")
            guard
                case .integer(let position) = try record.columnValue(
                    at: RegistrationReadQuery.positionColumn, column: "position", .integer)
            else {
                throw RegistrationError.storeUnreadable(table: record.table, column: "position", reason: "it is NULL")
            }
            let value: ChildValue
            switch tag {
            case RegistrationReadQuery.qualificationTag:
                value = .qualification(
                    Qualification(kind: try record.enumeration("kind"), grade: try record.enumeration("grade")))
            case RegistrationReadQuery.userTag: value = .user(try user(record))
            case RegistrationReadQuery.bindingTag: value = .binding(try binding(record))
            case RegistrationReadQuery.powerOfAttorneyTag: value = .powerOfAttorney(try powerOfAttorney(record))
            default:
                throw RegistrationError.storeUnreadable(
                    table: record.table, column: "tag", reason: "the read returned a row of no table")
            }
            keys.append((tag, position, id, children.count))
            children.append(value)
        }
        keys.sort { ($0.tag, $0.position) < ($1.tag, $1.position) }
        for key in keys {
            switch children[key.child].take() {
            case .qualification(let qualification):
                registrations[key.business]?.qualifications.append(qualification)
            case .user(let user): registrations[key.business]?.users.append(user)
            case .binding(let binding): registrations[key.business]?.bindings.append(binding)
            case .powerOfAttorney(let power): registrations[key.business]?.powersOfAttorney.append(power)
            case nil: break
            }
        }
        return ids.compactMap { registrations[$0] }
    }

    /// The registrations of `ids` read table by table with `SELECT *`, whose rows carry their columns' names: when
    /// the one-statement read finds the schema changed behind the store's back, this read names the table and the
    /// column in its error (the statement's error names neither).
    private static func loadRegistrationsTableByTable(
        _ ids: [String], _ connection: PostgresConnection, _ logger: Logger
    )
        async throws -> [BusinessRegistration]
    {
        guard !ids.isEmpty else { return [] }
        var registrations: [String: BusinessRegistration] = [:]
        for row in try await rows(
            "SELECT * FROM business WHERE id = ANY(\(ids))", table: "business", connection, logger)
        {
            let registration = try business(row)
            registrations[registration.id.rawValue] = registration
        }
        for row in try await rows(
            "SELECT business_id, kind, grade FROM qualification WHERE business_id = ANY(\(ids)) ORDER BY position",
            table: "qualification", connection, logger)
        {
            let id: String = try row.value("business_id")
            registrations[id]?.qualifications.append(
                Qualification(kind: try row.enumeration("kind"), grade: try row.enumeration("grade")))
        }
        for row in try await rows(
            #"SELECT * FROM "user" WHERE business_id = ANY(\#(ids)) ORDER BY position"#, table: "user", connection,
            logger)
        {
            let id: String = try row.value("business_id")
            registrations[id]?.users.append(try user(row))
        }
        for row in try await rows(
            "SELECT * FROM binding WHERE business_id = ANY(\(ids)) ORDER BY position", table: "binding", connection,
            logger)
        {
            let id: String = try row.value("business_id")
            registrations[id]?.bindings.append(try binding(row))
        }
        for row in try await rows(
            "SELECT * FROM power_of_attorney WHERE business_id = ANY(\(ids)) ORDER BY position",
            table: "power_of_attorney", connection, logger)
        {
            let id: String = try row.value("business_id")
            registrations[id]?.powersOfAttorney.append(try powerOfAttorney(row))
        }
        return ids.compactMap { registrations[$0] }
    }

    // The readers below take the columns in the order of their tables (`RegistrationReadQuery.tables`), which is
    // where a record looks for the next one first.

    private static func business(_ row: StoredRecord) throws -> BusinessRegistration {
        let id: String = try row.value("id")
        let version: Int = try row.value("version")
        let registeredAt = try row.date("registered_at")
        let name: String = try row.value("name")
        let postalCode: String = try row.value("postal_code")
        let address: String = try row.value("address")
        let title: String = try row.value("representative_title")
        let representative: String = try row.value("representative_name")
        let corporateNumber: String? = try row.optional("corporate_number")
        let phone: String = try row.value("phone")
        let information = try StoredField.checked("business") {
            try BusinessInformation(
                name: name, postalCode: postalCode, address: address, representativeTitle: title,
                representativeName: representative, corporateNumber: corporateNumber, phone: phone)
        }
        var registration = BusinessRegistration(id: BusinessID(rawValue: id), business: information, at: registeredAt)
        registration.version = version
        return registration
    }

    private static func user(_ row: StoredRecord) throws -> User {
        let id = UserID(rawValue: try row.value("id"))
        let role: Role = try row.enumeration("role")
        let title: String = try row.value("title")
        let name: String = try row.value("name")
        let postalCode: String = try row.value("postal_code")
        let address: String = try row.value("address")
        let phone: String = try row.value("phone")
        let fax: String? = try row.optional("fax")
        let mail: String = try row.value("mail")
        let status: User.Status = try row.enumeration("status")
        let registeredAt = try row.date("registered_at")
        let deletedAt = try row.optionalDate("deleted_at")
        let information = try StoredField.checked("user") {
            try UserInformation(
                title: title, name: name, postalCode: postalCode, address: address, phone: phone, fax: fax, mail: mail)
        }
        return User(
            stored: id, role: role, information: information, status: status, registeredAt: registeredAt,
            deletedAt: deletedAt)
    }

    private static func binding(_ row: StoredRecord) throws -> CertificateBinding {
        let id = BindingID(rawValue: try row.value("id"))
        let userID = UserID(rawValue: try row.value("user_id"))
        let kind: CredentialKind = try row.enumeration("kind")
        let issuer: String = try row.value("issuer")
        let subject: String = try row.value("subject")
        let serialNumber: String = try row.value("serial_number")
        let fingerprint: String = try row.value("fingerprint")
        let notValidBefore = try row.date("not_valid_before")
        let notValidAfter = try row.date("not_valid_after")
        let der = try row.bytes("certificate")
        let status: BindingStatus = try row.enumeration("status")
        let boundAt = try row.date("bound_at")
        let endedAt = try row.optionalDate("ended_at")
        let supersededBy = (try row.optional("superseded_by", as: String.self)).map(BindingID.init(rawValue:))
        // The DER must still decode (a damaged one is an error now, not at login); one whose SHA-256 is the stored
        // fingerprint is the certificate that decoded when it was bound, and is not decoded again. The values stored
        // when the certificate was bound stand, nothing is derived from it again.
        guard CertificateBinding.storedDERIsCertificate(der, fingerprint: fingerprint) else {
            throw RegistrationError.storeUnreadable(
                table: "binding", column: "certificate", reason: "the stored certificate cannot be decoded")
        }
        return CertificateBinding(
            stored: id, userID: userID, kind: kind, issuer: issuer, subject: subject, serialNumber: serialNumber,
            fingerprint: fingerprint, notValidBefore: notValidBefore, notValidAfter: notValidAfter,
            certificateDER: der, recordedStatus: status, boundAt: boundAt, endedAt: endedAt, supersededBy: supersededBy)
    }

    private static func powerOfAttorney(_ row: StoredRecord) throws -> PowerOfAttorney {
        let id = PowerOfAttorneyID(rawValue: try row.value("id"))
        let agentID = UserID(rawValue: try row.value("agent_id"))
        let principal: String = try row.value("principal")
        let agent: String = try row.value("agent")
        let authorityJSON: String = try row.value("authority")
        let authority: [String]
        do { authority = try JSONDecoder().decode([String].self, from: Data(authorityJSON.utf8)) } catch {
            throw RegistrationError.storeUnreadable(
                table: "power_of_attorney", column: "authority", reason: "it is not a JSON array of strings")
        }
        let validFrom = try row.date("valid_from")
        let validUntil = try row.date("valid_until")
        let provider: String = try row.value("provider")
        let reference: String = try row.value("reference")
        let isSuperseded: Bool = try row.value("is_superseded")
        var power = try StoredField.checked("power_of_attorney") {
            try PowerOfAttorney(
                agentID: agentID, principal: principal, agent: agent, authority: authority, validFrom: validFrom,
                validUntil: validUntil, provider: provider, reference: reference)
        }
        power.id = id
        power.isSuperseded = isSuperseded
        return power
    }

    private static func changeRecord(_ row: StoredRecord) throws -> ChangeRecord {
        ChangeRecord(
            id: ChangeID(rawValue: try row.value("id")),
            businessID: BusinessID(rawValue: try row.value("business_id")),
            actor: (try row.optional("actor", as: String.self)).map(UserID.init(rawValue:)),
            kind: try row.value("kind"), summary: try row.value("summary"), version: try row.value("version"),
            committedAt: try row.date("committed_at"))
    }

    private static func outboxMessage(_ row: StoredRecord) throws -> OutboxMessage {
        var message = OutboxMessage(
            changeID: ChangeID(rawValue: try row.value("change_id")),
            businessID: BusinessID(rawValue: try row.value("business_id")), kind: try row.enumeration("kind"),
            payload: try row.bytes("payload"),
            after: (try row.optional("after_id", as: String.self)).map(OutboxMessageID.init(rawValue:)),
            at: try row.date("created_at"))
        message.id = OutboxMessageID(rawValue: try row.value("id"))
        message.idempotencyKey = try row.value("idempotency_key")
        message.state = try row.enumeration("state")
        message.attempts = try row.value("attempts")
        message.nextAttemptAt = try row.date("next_attempt_at")
        message.leasedUntil = try row.optionalDate("leased_until")
        message.deliveredAt = try row.optionalDate("delivered_at")
        message.receipt = try row.optional("receipt")
        message.lastError = try row.optional("last_error")
        return message
    }

    // MARK: Values → rows

    /// The registration's rows in its child tables, as the commit compares them with the new ones, in one statement.
    private static func storedRows(of id: String, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [String: [ChildRow]]
    {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try ChildRowsQuery.rows(
            try await rows(
                PostgresQuery(unsafeSQL: ChildRowsQuery.selectSQL, binds: bindings), table: "registration rows",
                connection, logger))
    }

    /// Runs one write of a commit, turning a violated key or unique rule into the error it means.
    private static func execute(_ write: RowWrite, _ connection: PostgresConnection, _ logger: Logger) async throws {
        do {
            try await connection.query(
                PostgresQuery(unsafeSQL: write.sql, binds: try bindings(write.arguments)), logger: logger)
        } catch let error as PSQLError {
            switch PostgresFailure.violatedUniqueConstraint(error) {
            case .some(let name) where name.hasSuffix("_pkey"): throw write.primaryKeyError ?? error
            case .some("user_one_representative"), .some("binding_active_fingerprint"):
                throw write.uniqueError ?? error
            default: throw error
            }
        }
    }

    /// Inserts a commit's history entry and its outbox messages in one statement (one round trip, not one per row),
    /// with the commit's last write of a child row, if any, as a data-modifying `WITH` before them: it touches
    /// other tables than they do, so the order among them does not matter.
    private static func insert(
        _ record: ChangeRecord, _ messages: [OutboxMessage], after write: RowWrite?, _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws {
        var arguments: [ColumnValue] = write?.arguments ?? []
        func placeholders(_ values: [ColumnValue]) -> String {
            let first = arguments.count + 1
            arguments += values
            return "(" + (first..<first + values.count).map { "$\($0)" }.joined(separator: ", ") + ")"
        }
        var steps: [String] = []
        if let write { steps.append("written AS (\(write.sql))") }
        let history =
            "INSERT INTO change_record (id, business_id, actor, kind, summary, version, committed_at) VALUES "
            + placeholders([
                .text(record.id.rawValue), .text(record.businessID.rawValue),
                record.actor.map { .text($0.rawValue) } ?? .null, .text(record.kind), .text(record.summary),
                .integer(record.version), .real(time(record.committedAt)),
            ])
        var last = history
        if !messages.isEmpty {
            steps.append("history AS (\(history))")
            let rows = messages.map { message in
                placeholders([
                    .text(message.id.rawValue), .text(message.changeID.rawValue), .text(message.businessID.rawValue),
                    .text(message.kind.rawValue), .text(message.idempotencyKey), .bytes(message.payload),
                    message.after.map { .text($0.rawValue) } ?? .null, .text(message.state.rawValue),
                    .integer(message.attempts), .real(time(message.createdAt)), .real(time(message.nextAttemptAt)),
                    message.leasedUntil.map { .real(time($0)) } ?? .null,
                    message.deliveredAt.map { .real(time($0)) } ?? .null,
                    message.receipt.map(ColumnValue.text) ?? .null, message.lastError.map(ColumnValue.text) ?? .null,
                ])
            }
            last = """
                INSERT INTO outbox (id, change_id, business_id, kind, idempotency_key, payload, after_id, state, attempts,
                    created_at, next_attempt_at, leased_until, delivered_at, receipt, last_error)
                VALUES \(rows.joined(separator: ", "))
                """
        }
        let sql = (steps.isEmpty ? "" : "WITH " + steps.joined(separator: ",\n") + "\n") + last
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: try bindings(arguments)), logger: logger)
        } catch let error as PSQLError {
            switch PostgresFailure.violatedUniqueConstraint(error) {
            case .some("change_record_id_key"):
                throw RegistrationError.storeFailure("change \(record.id) is already in the history")
            case .some("outbox_id_key"):
                throw RegistrationError.storeFailure(
                    "an outbox message of change \(record.id) is already in the outbox")
            case .some(let name) where name.hasSuffix("_pkey"): throw write?.primaryKeyError ?? error
            case .some("user_one_representative"), .some("binding_active_fingerprint"):
                throw write?.uniqueError ?? error
            default: throw error
            }
        }
    }
}
