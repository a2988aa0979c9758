import CardCredentials
public import Foundation
import GRDB
import X509

/// A ``RegistrationStore`` in an SQLite database file, shared safely by several processes.
///
/// The file is opened in WAL mode (readers never wait for the writer) with foreign keys on, and migrated to the
/// current schema when it is opened. Every method is one transaction; writes take the database's write lock at once
/// (`BEGIN IMMEDIATE`) and wait up to 5 seconds for another process's write to end. The uniqueness of an active
/// certificate across registrations is a unique index, so it holds whichever process commits.
///
/// ```swift
/// let store = try SQLiteRegistrationStore(path: "/var/lib/portal/registrations.sqlite")
/// try await store.commit(commit)
/// ```
public final class SQLiteRegistrationStore: RegistrationStore {
    /// How long a write waits for another connection's write before it fails.
    public static let busyTimeout: TimeInterval = 5

    private let database: any DatabaseWriter
    /// Where the database is, for error sentences ("memory" for an in-memory database).
    private let location: String
    /// The checkpoints of a file's write-ahead log, off the commits (nil in memory).
    private let checkpointer: WALCheckpointer?

    /// Opens the database file at `path`, creating it when ``OpenMode/createIfMissing`` allows, and migrates it to
    /// the current schema.
    ///
    /// A command that only reads opens with ``OpenMode/existingOnly``: a path with a typing error then says so,
    /// instead of leaving an empty database behind, and an empty (0-byte) file is refused rather than silently
    /// made into a new database.
    ///
    /// Reads map the file into memory, up to `memoryMapSize` bytes of it (SQLite's `mmap_size`, which SQLite caps at
    /// its build's limit, 2 GB by default; see ``defaultMemoryMapSize``): a read of a page of the file is then a
    /// memory access, not a system call and a copy (pages still in the write-ahead log are read from the log as
    /// before). Pass 0 (or less) to read through system calls only; where the storage may fail with read errors that
    /// the process must survive (a failing or removable disk), do: a read error in a mapped page stops the process
    /// with a signal instead of returning an error. Writes go through system calls as before (SQLite writes through
    /// a map only when built to). The example tools use the default.
    ///
    /// The write-ahead log is checkpointed (its pages copied into the database file) beside the commits, on a
    /// connection and a thread of the store's own, when it passes 1,000 pages; SQLite would do it in the commit that
    /// passed them, which then waits for the disk (4–8 ms instead of about 0.4 ms, store-benchmark).
    ///
    /// - Throws: ``RegistrationError/storeFailure(_:)`` when the file cannot be opened or created, is missing or
    ///   empty (with ``OpenMode/existingOnly``), is not an SQLite database, is the database of another program,
    ///   or was written by a newer version of this store (its `user_version` or its migrations say so).
    public convenience init(path: String, mode: OpenMode = .createIfMissing, memoryMapSize: Int = defaultMemoryMapSize)
        throws(RegistrationError)
    {
        try self.init(
            path: path, mode: mode, memoryMapSize: memoryMapSize, checkpointPages: WALCheckpointer.defaultThreshold)
    }

    /// A store whose log is checkpointed past `checkpointPages` pages (tests use a few).
    package init(path: String, mode: OpenMode = .createIfMissing, memoryMapSize: Int, checkpointPages: Int32)
        throws(RegistrationError)
    {
        location = path
        let checkpointer = WALCheckpointer(path: path, threshold: checkpointPages)
        self.checkpointer = checkpointer
        if mode == .existingOnly {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                throw .storeFailure(
                    "there is no database at \(path); check the path (a command that only reads creates none)")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
            if size == 0 {
                throw .storeFailure(
                    "the file at \(path) is empty (0 bytes), not a registration database; check the path, or remove "
                        + "the file and let a command that writes create the database")
            }
        }
        do {
            database = try DatabasePool(
                path: path, configuration: Self.configuration(memoryMapSize: memoryMapSize, checkpointer: checkpointer))
        } catch {
            throw Self.failure(error, while: "opening the database", at: path)
        }
        try migrate()
    }

    /// Whether opening a store may create its database file.
    public enum OpenMode: Sendable, Hashable {
        /// Create the file (and its schema) when it does not exist: for commands that write.
        case createIfMissing
        /// Open only a database that exists and is not empty: for commands that only read.
        case existingOnly
    }

    /// A store in a private in-memory database (no WAL): for tests and previews. Its contents are lost when it is
    /// released.
    public static func inMemory() throws(RegistrationError) -> SQLiteRegistrationStore {
        try SQLiteRegistrationStore(inMemory: ())
    }

    private init(inMemory: Void) throws(RegistrationError) {
        location = "memory"
        checkpointer = nil
        do {
            database = try DatabaseQueue(configuration: Self.configuration())
        } catch {
            throw Self.failure(error, while: "creating an in-memory database", at: location)
        }
        try migrate()
    }

    /// How much of the database file reads map into memory unless told otherwise: 1 GiB, the whole file of a
    /// prefecture's registrations (about 320 MB at 100,000 businesses) and room to grow. Measured at 100,000
    /// businesses, a page of 100 registrations took 3.3–3.7 ms against 3.7 ms, a page of certificates expiring
    /// within 30 days 4.2–4.9 ms against 6.2 ms (README, store-benchmark). Mapped pages are the system's file cache,
    /// shared by the connections and the processes that read the file; they count in a process's resident memory
    /// once read (once for each connection's map). The cost is on busy writers: SQLite maps the file again in a
    /// read transaction that follows another connection's commit (measured in server-load: about 1,300
    /// `munmap`/`mmap` pairs a second at about 1,800 logins a second, with no clear change in the login rate).
    public static let defaultMemoryMapSize = 1 << 30

    /// The connections' configuration; `memoryMapSize` (a file's store) is set on every connection, 0 included,
    /// so that 0 turns the map off whatever default SQLite was built with. The checkpointer (a file's store) takes
    /// the place of the writer's automatic checkpoint; the configuration keeps it alive as long as the connections.
    private static func configuration(memoryMapSize: Int? = nil, checkpointer: WALCheckpointer? = nil)
        -> Configuration
    {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "RegistrationStore"
        if let memoryMapSize {
            // Every connection, the writer's and each reader's: the pragma is a connection's setting.
            let size = max(memoryMapSize, 0)
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(size)") }
        }
        if let checkpointer {
            configuration.prepareDatabase { db in checkpointer.install(on: db) }
        }
        return configuration
    }

    private func migrate() throws(RegistrationError) {
        let migrator = SQLiteSchema.migrator
        let location = location
        do {
            try database.read { db throws in
                // `user_version` first: a version above ours is a newer store; one we never wrote, another program.
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                if version > SQLiteSchema.latestVersion {
                    throw RegistrationError.storeFailure(
                        "the database at \(location) has schema version \(version), written by a newer version of "
                            + "this store (this one knows versions up to \(SQLiteSchema.latestVersion)); use that "
                            + "version")
                }
                if version < 0 || version == 1 {
                    throw RegistrationError.storeFailure(
                        "the database at \(location) has schema version \(version), which this store never writes; "
                            + "it belongs to another program: choose another path")
                }
                if try migrator.hasBeenSuperseded(db) {
                    throw RegistrationError.storeFailure(
                        "the database at \(location) was written by a newer version of this store; use that version")
                }
                // A database with tables but none of our migrations is another program's: never write into it.
                let tables = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                if (tables ?? 0) > 0, try !db.tableExists("grdb_migrations") {
                    throw RegistrationError.storeFailure(
                        "the file at \(location) is an SQLite database of another program, not a registration "
                            + "database; choose another path")
                }
                if version >= 2, try !db.tableExists("grdb_migrations") {
                    throw RegistrationError.storeFailure(
                        "the database at \(location) says it has schema version \(version) but was not written by "
                            + "this store; choose another path")
                }
            }
            do {
                try migrator.migrate(database)
            } catch let error as RegistrationError {
                throw error
            } catch {
                // Another process may have migrated the file between our reading and writing: try once more, which
                // finds the migrations applied.
                try migrator.migrate(database)
            }
        } catch let error as RegistrationError {
            throw error
        } catch {
            throw Self.failure(error, while: "migrating the database", at: location)
        }
    }

    // MARK: Reading

    public func registration(_ id: BusinessID) async throws(RegistrationError) -> BusinessRegistration? {
        try await read("reading registration \(id)") { db in try Self.loadRegistration(id, db) }
    }

    public func registration(ofUser id: UserID) async throws(RegistrationError) -> BusinessRegistration? {
        try await read("reading the registration of user \(id)") { db in
            guard
                let business = try String.fetchOne(
                    db.cachedStatement(sql: #"SELECT business_id FROM "user" WHERE id = ?"#), arguments: [id.rawValue])
            else { return nil }
            return try Self.loadRegistration(BusinessID(rawValue: business), db)
        }
    }

    public func registration(boundTo fingerprint: String) async throws(RegistrationError) -> BusinessRegistration? {
        try await read("reading the registration of a certificate") { db in
            // An active binding wins; otherwise the registration that bound the certificate last.
            guard
                let business = try String.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT business_id FROM binding WHERE fingerprint = ?
                            ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
                            """),
                    arguments: [fingerprint])
            else { return nil }
            return try Self.loadRegistration(BusinessID(rawValue: business), db)
        }
    }

    public func holder(ofCertificate fingerprint: String) async throws(RegistrationError) -> CertificateHolder? {
        // Read where the logins' own writes keep the cache valid (see readOnWriter).
        try await readOnWriter("reading the holder of a certificate") { db in
            // The binding registration(boundTo:) chooses the business by is also the one chosen in it: an active
            // binding wins, otherwise the one bound last.
            let bindings = try db.cachedStatement(
                sql: """
                    SELECT * FROM binding WHERE fingerprint = ?
                    ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
                    """)
            guard let bindingRow = try Row.fetchOne(bindings, arguments: [fingerprint]) else { return nil }
            let stored = StoredRow(bindingRow, table: "binding", columns: StoredRow.columns(of: bindings))
            let binding = try Self.binding(stored)
            let businessID: String = try stored.value("business_id")
            let users = try db.cachedStatement(
                sql: #"""
                    SELECT "user".*, business.name AS business_name FROM "user"
                    JOIN business ON business.id = "user".business_id
                    WHERE "user".id = ? AND "user".business_id = ?
                    """#)
            guard let userRow = try Row.fetchOne(users, arguments: [binding.userID.rawValue, businessID]) else {
                throw RegistrationError.userNotFound(binding.userID)
            }
            let user = StoredRow(userRow, table: "user", columns: StoredRow.columns(of: users))
            let name: String = try user.value("business_name")
            return CertificateHolder(
                businessID: BusinessID(rawValue: businessID),
                businessName: try CertificateHolder.storedBusinessName(name),
                binding: binding, user: try Self.user(user))
        }
    }

    public func registrations() async throws(RegistrationError) -> [BusinessRegistration] {
        try await read("reading the registrations") { db in
            let ids = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM business ORDER BY registered_at, number"))
            return try Self.loadRegistrations(ids, db)
        }
    }

    public func registrations(_ page: RegistrationPage) async throws(RegistrationError) -> [BusinessRegistration] {
        guard page.limit > 0 else { return [] }
        return try await read("reading a page of the registrations") { db in
            let (sql, arguments) = try Self.query(of: page, db)
            let ids = try String.fetchAll(db, sql: sql, arguments: arguments)
            return try Self.loadRegistrations(ids, db)
        }
    }

    /// The query of a page's identifiers (see ``RegistrationPage``), with its arguments.
    ///
    /// SQLite's planner collects the businesses of an expiry range and sorts them, however many they are (seen at
    /// 100,000 businesses, analyzed, 8 % of them in the range: 8,000 look-ups for a page of 100). So the store counts
    /// the active bindings of the range first, up to √(limit × businesses), from the index: when the count reaches
    /// that bound, walking the businesses in order of registration and asking each (about limit × businesses /
    /// count index probes) costs less, and the page is asked that way.
    private static func query(of page: RegistrationPage, _ db: Database) throws -> (String, StatementArguments) {
        var probing = false
        if let range = page.certificateExpiry {
            let businesses = try Int.fetchOne(db.cachedStatement(sql: "SELECT max(number) FROM business")) ?? 0
            let bound = Int(min(max(Double(page.limit) * Double(businesses), 1).squareRoot(), 1e9))
            let inRange =
                try Int.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT count(*) FROM (SELECT 1 FROM binding WHERE status = 'active'
                                AND not_valid_after >= ? AND not_valid_after < ? LIMIT ?)
                            """),
                    arguments: [time(range.lowerBound), time(range.upperBound), bound]) ?? 0
            probing = inRange >= bound
        }
        let (sql, arguments) = page.sql(placeholder: { _ in "?" }, contains: "instr", probingExpiry: probing)
        return (sql, Self.arguments(arguments))
    }

    public func registration(corporateNumber: CorporateNumber) async throws(RegistrationError)
        -> BusinessRegistration?
    {
        try await read("reading the registration of a 法人番号") { db in
            guard
                let business = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT id FROM business WHERE corporate_number = ?"),
                    arguments: [corporateNumber.digits])
            else { return nil }
            return try Self.loadRegistration(BusinessID(rawValue: business), db)
        }
    }

    public func history(of id: BusinessID) async throws(RegistrationError) -> [ChangeRecord] {
        try await read("reading the history of \(id)") { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM change_record WHERE business_id = ? ORDER BY number"),
                arguments: [id.rawValue]
            ).map(Self.changeRecord)
        }
    }

    public func outbox(state: OutboxMessage.State?) async throws(RegistrationError) -> [OutboxMessage] {
        try await read("reading the outbox") { db in
            let rows =
                if let state {
                    try Row.fetchAll(
                        db.cachedStatement(sql: "SELECT * FROM outbox WHERE state = ? ORDER BY created_at, number"),
                        arguments: [state.rawValue])
                } else {
                    try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM outbox ORDER BY created_at, number"))
                }
            return try rows.map(Self.outboxMessage)
        }
    }

    // MARK: Writing

    public func commit(_ commit: RegistrationCommit) async throws(RegistrationError) {
        try commit.checkConsistency()
        try await write("committing a change to registration \(commit.registration.id)") { db in
            let registration = commit.registration
            let id = registration.id.rawValue
            let business = registration.business
            let businessArguments: StatementArguments = [
                registration.version, Self.time(registration.registeredAt), business.name, business.postalCode.text,
                business.address, business.representativeTitle, business.representativeName,
                business.corporateNumber?.digits, business.phone.text, id,
            ]
            if commit.expectedVersion == 0 {
                let exists = try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM business WHERE id = ?)"), arguments: [id])
                if exists == true { throw RegistrationError.staleChange(registration.id) }
                try Self.uniqueBusiness(business) {
                    try db.execute(
                        sql: """
                            INSERT INTO business (version, registered_at, name, postal_code, address,
                                representative_title, representative_name, corporate_number, phone, id)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: businessArguments)
                }
            } else {
                try Self.uniqueBusiness(business) {
                    try db.execute(
                        sql: """
                            UPDATE business SET version = ?, registered_at = ?, name = ?, postal_code = ?, address = ?,
                                representative_title = ?, representative_name = ?, corporate_number = ?, phone = ?
                            WHERE id = ? AND version = ?
                            """,
                        arguments: businessArguments + [commit.expectedVersion])
                }
                if db.changesCount == 0 { throw RegistrationError.staleChange(registration.id) }
            }
            // Only what changed is written: the stored rows (none for a new registration) against the new ones.
            let stored = commit.expectedVersion == 0 ? [:] : try Self.storedRows(of: id, db)
            for write in try RegistrationRows.writes(from: stored, to: registration, placeholder: { _ in "?" }) {
                try Self.execute(write, db)
            }
            try Self.insert(commit.record, db)
            for message in commit.outbox { try Self.insert(message, db) }
        }
    }

    public func insert(_ challenge: IssuedChallenge) async throws(RegistrationError) {
        try await write("keeping a card challenge") { db in
            do {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO card_challenge (id, nonce, flow, step, owner, issued_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        challenge.id, Data(challenge.challenge.nonce), challenge.challenge.purpose.flow,
                        challenge.challenge.purpose.step, challenge.owner, Self.time(challenge.issuedAt),
                        Self.time(challenge.expiresAt),
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw RegistrationError.storeFailure("a card challenge \(challenge.id) exists already")
            }
        }
    }

    public func takeChallenge(_ id: String) async throws(RegistrationError) -> IssuedChallenge? {
        try await write("taking a card challenge") { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM card_challenge WHERE id = ?"), arguments: [id]
                )
                .map({ StoredRow($0, table: "card_challenge") })
            else { return nil }
            try db.cachedStatement(sql: "DELETE FROM card_challenge WHERE id = ?").execute(arguments: [id])
            return try IssuedChallenge(
                stored: try row.value("id"), nonce: [UInt8](try row.value("nonce") as Data),
                flow: try row.value("flow"),
                step: try row.value("step"), owner: try row.optional("owner"), issuedAt: try row.date("issued_at"),
                expiresAt: try row.date("expires_at"))
        }
    }

    public func purgeChallenges(expiredBefore date: Date) async throws(RegistrationError) -> Int {
        try await write("purging expired card challenges") { db in
            try db.cachedStatement(sql: "DELETE FROM card_challenge WHERE expires_at < ?").execute(arguments: [
                Self.time(date)
            ])
            return db.changesCount
        }
    }

    public func flow(_ id: String) async throws(RegistrationError) -> StoredFlow? {
        try await read("reading a flow") { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM flow_state WHERE id = ?"), arguments: [id])
                .map { StoredRow($0, table: "flow_state") }
                .map { row in
                    StoredFlow(
                        id: try row.value("id"), kind: try row.value("kind"), owner: try row.value("owner"),
                        version: try row.value("version"), state: try row.value("state"),
                        updatedAt: try row.date("updated_at"), expiresAt: try row.date("expires_at"))
                }
        }
    }

    public func save(_ flow: StoredFlow) async throws(RegistrationError) {
        guard flow.version >= 1 else { throw .flowChanged(flow.id) }
        try await write("saving a flow") { db in
            if flow.version == 1 {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO flow_state (id, kind, owner, version, state, updated_at, expires_at)
                        VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                        """
                ).execute(
                    arguments: [
                        flow.id, flow.kind, flow.owner, flow.state, Self.time(flow.updatedAt),
                        Self.time(flow.expiresAt),
                    ])
            } else {
                try db.cachedStatement(
                    sql: """
                        UPDATE flow_state SET version = ?, state = ?, updated_at = ?, expires_at = ?
                        WHERE id = ? AND version = ? AND kind = ? AND owner = ?
                        """
                ).execute(
                    arguments: [
                        flow.version, flow.state, Self.time(flow.updatedAt), Self.time(flow.expiresAt), flow.id,
                        flow.version - 1, flow.kind, flow.owner,
                    ])
            }
            guard db.changesCount == 1 else { throw RegistrationError.flowChanged(flow.id) }
        }
    }

    public func removeFlow(_ id: String) async throws(RegistrationError) -> Bool {
        try await write("removing a flow") { db in
            try db.cachedStatement(sql: "DELETE FROM flow_state WHERE id = ?").execute(arguments: [id])
            return db.changesCount == 1
        }
    }

    public func purgeFlows(expiredBefore date: Date) async throws(RegistrationError) -> Int {
        try await write("purging expired flows") { db in
            try db.cachedStatement(sql: "DELETE FROM flow_state WHERE expires_at < ?").execute(arguments: [
                Self.time(date)
            ])
            return db.changesCount
        }
    }

    public func leaseDueMessages(at date: Date, limit: Int, leaseUntil: Date) async throws(RegistrationError)
        -> [OutboxMessage]
    {
        guard limit > 0 else { return [] }
        return try await write("leasing due outbox messages") { db in
            let now = Self.time(date)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox AS message
                    WHERE state = 'pending' AND next_attempt_at <= ?
                        AND (leased_until IS NULL OR leased_until < ?)
                        AND (after_id IS NULL OR EXISTS (
                            SELECT 1 FROM outbox AS first WHERE first.id = message.after_id AND first.state = 'delivered'))
                    ORDER BY created_at, number
                    LIMIT ?
                    """,
                arguments: [now, now, limit])
            var leased: [OutboxMessage] = []
            for row in rows {
                var message = try Self.outboxMessage(row)
                message.leasedUntil = leaseUntil
                try db.execute(
                    sql: "UPDATE outbox SET leased_until = ? WHERE id = ?",
                    arguments: [Self.time(leaseUntil), message.id.rawValue])
                leased.append(message)
            }
            return leased
        }
    }

    public func record(_ outcome: DeliveryOutcome, for id: OutboxMessageID, at date: Date)
        async throws(RegistrationError)
    {
        try await write("recording a delivery of outbox message \(id)") { db in
            guard
                let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id.rawValue])
            else { throw RegistrationError.outboxMessageNotFound(id) }
            var message = try Self.outboxMessage(row)
            message.apply(outcome, at: date)
            try db.execute(
                sql: """
                    UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, leased_until = ?, delivered_at = ?,
                        receipt = ?, last_error = ?
                    WHERE id = ?
                    """,
                arguments: [
                    message.state.rawValue, message.attempts, Self.time(message.nextAttemptAt),
                    message.leasedUntil.map(Self.time), message.deliveredAt.map(Self.time), message.receipt,
                    message.lastError, id.rawValue,
                ])
        }
    }

    public func requeue(_ id: OutboxMessageID, at date: Date) async throws(RegistrationError) -> [OutboxMessageID] {
        try await write("requeueing outbox message \(id)") { db in
            guard
                let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id.rawValue])
            else { throw RegistrationError.outboxMessageNotFound(id) }
            let message = try Self.outboxMessage(row)
            guard message.state == .failed else {
                throw RegistrationError.changeNotAllowed(
                    "outbox message \(id) is \(message.state.rawValue), not failed")
            }
            let ids =
                [id.rawValue]
                + (try String.fetchAll(
                    db, sql: "SELECT id FROM outbox WHERE after_id = ? AND state = 'failed'", arguments: [id.rawValue]))
            for requeued in ids {
                try db.execute(
                    sql: """
                        UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, leased_until = NULL
                        WHERE id = ?
                        """,
                    arguments: [Self.time(date), requeued])
            }
            return ids.map { OutboxMessageID(rawValue: $0) }
        }
    }

    /// Runs the write of a business row, turning the unique index on 法人番号 into the error a person reads.
    private static func uniqueBusiness(_ business: BusinessInformation, _ write: () throws -> Void) throws {
        do { try write() } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            && error.message?.contains("business.corporate_number") == true
        {
            guard let number = business.corporateNumber else { throw error }
            throw RegistrationError.corporateNumberAlreadyRegistered(number)
        }
    }

    // MARK: Maintenance

    /// Refreshes the query planner's statistics of the database (`ANALYZE`: SQLite's `sqlite_stat1` table).
    ///
    /// SQLite chooses among the indexes of a query with these statistics; without them (a new database, or one
    /// filled by a bulk import) it guesses from the indexes' shapes. Call it after such an import; the statistics
    /// are kept in the file, and a database whose content keeps its shape does not need it again. It reads every
    /// index once (0.25 s at 100,000 businesses) in one write transaction, so other writers wait meanwhile.
    public func analyze() async throws(RegistrationError) {
        try await write("analyzing the database") { db in try db.execute(sql: "ANALYZE") }
    }

    // MARK: Diagnostics (tests) and seeding (benchmark)

    /// SQLite's plan of the query that reads `page` (`EXPLAIN QUERY PLAN`): one line per step, such as
    /// `SEARCH business USING INDEX business_corporate_number (corporate_number=?)`.
    package func plan(of page: RegistrationPage) async throws(RegistrationError) -> [String] {
        try await read("explaining the query of a page") { db in
            let (sql, arguments) = try Self.query(of: page, db)
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map {
                row in String.fromDatabaseValue(row["detail"] as DatabaseValue) ?? ""
            }
        }
    }

    /// Stores new registrations in one transaction with one multi-row `INSERT` per table, without history or
    /// outbox: the fast path that seeds a benchmark's database. Not a commit: no version check, no history.
    package func seed(_ registrations: [BusinessRegistration]) async throws(RegistrationError) {
        try await write("seeding registrations") { db in
            for batch in stride(from: 0, to: registrations.count, by: 200) {
                let chunk = Array(registrations[batch..<min(batch + 200, registrations.count)])
                for (sql, arguments) in try RegistrationRows.bulkInserts(chunk, placeholder: { _ in "?" }) {
                    try db.execute(sql: sql, arguments: Self.arguments(arguments))
                }
            }
        }
    }

    /// Runs raw SQL in a write transaction: lets tests check what the schema refuses.
    func execute(sql: String) async throws(RegistrationError) {
        try await write("running SQL") { db in try db.execute(sql: sql) }
    }

    /// How many checkpoints beside the commits ran on the opened log and left frames of it checkpointed (for tests).
    package var checkpointsRun: Int { checkpointer?.checkpoints ?? 0 }

    /// The first column of the first row of a query (e.g. `PRAGMA journal_mode`) on the writing connection, as text.
    func text(sql: String) async throws(RegistrationError) -> String? {
        try await write("running a query") { db in try String.fetchOne(db, sql: sql) }
    }

    /// The same on a reading connection (one of the pool's readers, whose settings are each connection's own).
    func textRead(sql: String) async throws(RegistrationError) -> String? {
        try await read("running a query") { db in try String.fetchOne(db, sql: sql) }
    }

    // MARK: Transactions

    private func read<T: Sendable>(_ activity: String, _ body: @escaping @Sendable (Database) throws -> T)
        async throws(RegistrationError) -> T
    {
        do {
            return try await database.read(body)
        } catch let error as RegistrationError {
            throw error
        } catch {
            throw Self.failure(error, while: activity, at: location)
        }
    }

    /// A short read, of a few rows, on the writer's connection between its writes, in a read transaction of its own
    /// (`BEGIN DEFERRED`: a snapshot, no write lock).
    ///
    /// A reader connection finds SQLite's page cache emptied, and its mapping of the file made again, whenever
    /// another connection committed since its last read: under a stream of logins, every read. The writer's
    /// connection made those commits itself, so its cache stays valid (while this process is the only one writing;
    /// other processes' commits empty it as they do a reader's, and the read is still of the newest snapshot). In
    /// server-load (64 clients logging in, 2 cores), the login's read of the certificate's holder here took about a
    /// fifth off the server's processor time per login (the server's own rate).
    ///
    /// The read waits its turn behind this process's writes instead of running beside them on a reader: only point
    /// reads belong here, and `body` must not write (a deferred transaction that starts writing while another
    /// process holds the write lock fails at once with `SQLITE_BUSY`).
    private func readOnWriter<T: Sendable>(
        _ activity: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(RegistrationError) -> T {
        do {
            return try await database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.deferred) {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw RegistrationError.storeFailure("\(activity) returned nothing") }
                return result
            }
        } catch let error as RegistrationError {
            throw error
        } catch {
            throw Self.failure(error, while: activity, at: location)
        }
    }

    /// One `BEGIN IMMEDIATE` transaction: committed when `body` returns, rolled back when it throws.
    private func write<T: Sendable>(_ activity: String, _ body: @escaping @Sendable (Database) throws -> T)
        async throws(RegistrationError) -> T
    {
        do {
            return try await database.write(body)
        } catch let error as RegistrationError {
            throw error
        } catch {
            throw Self.failure(error, while: activity, at: location)
        }
    }

    /// A database error as a sentence for ``RegistrationError/storeFailure(_:)``: what was being done and what
    /// SQLite answered (its message names tables and constraints, never values).
    static func failure(_ error: any Error, while activity: String, at location: String) -> RegistrationError {
        guard let error = error as? DatabaseError else {
            if error is CancellationError { return .storeFailure("\(activity) was cancelled") }
            return .storeFailure("\(activity) failed: \(type(of: error))")
        }
        let sqlite = "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "no message")"
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return .storeFailure(
                "the file at \(location) is not a readable SQLite database (\(sqlite)); it is damaged or another "
                    + "kind of file: restore it from a backup or choose another path")
        case .SQLITE_CANTOPEN:
            return .storeFailure(
                "the database at \(location) cannot be opened (\(sqlite)); check that its folder exists and is "
                    + "writable")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .storeFailure(
                "\(activity): the database stayed locked by another connection for more than "
                    + "\(Int(busyTimeout)) seconds (\(sqlite))")
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return .storeFailure("\(activity): the database at \(location) is read-only (\(sqlite))")
        case .SQLITE_FULL:
            return .storeFailure("\(activity): the disk is full (\(sqlite))")
        case .SQLITE_CONSTRAINT:
            return .storeFailure("\(activity) broke a rule of the schema (\(sqlite))")
        default:
            return .storeFailure("\(activity) failed (\(sqlite))")
        }
    }

    // MARK: Rows → values

    private static func time(_ date: Date) -> Double { date.timeIntervalSinceReferenceDate }

    /// Rebuilds a value through its checking initialiser; a stored value that no longer passes is a typed error
    /// naming the table and the field's column (never the value).
    private static func checked<Value>(_ table: String, _ make: () throws -> Value) throws -> Value {
        try StoredField.checked(table, make)
    }

    /// The registrations of `ids`, in that order, with one query per table for each 500 of them (not five queries
    /// per registration).
    ///
    /// The rows are read from the statement as SQLite steps through them (a cursor), not copied first: GRDB's copied
    /// row finds a column by lowercasing and comparing the names of the columns before it, one by one, on every read
    /// (two reads per field here: whether the column exists, then its value). The index of each column is found
    /// once per statement (``StoredRow/columns(of:)``), and each value read by its index.
    private static func loadRegistrations(_ ids: [String], _ db: Database) throws -> [BusinessRegistration] {
        var registrations: [String: BusinessRegistration] = [:]
        registrations.reserveCapacity(ids.count)
        /// Each row of a query, read where it is.
        func each(_ sql: String, _ arguments: StatementArguments, table: String, _ body: (StoredRow) throws -> Void)
            throws
        {
            // Cached: a login loads one registration, the same SQL each time (parsing it is a login's largest
            // cost in SQLite after the writes).
            let statement = try db.cachedStatement(sql: sql)
            let columns = StoredRow.columns(of: statement)
            let rows = try Row.fetchCursor(statement, arguments: arguments)
            while let row = try rows.next() { try body(StoredRow(row, table: table, columns: columns)) }
        }
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            let list = "(" + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")"
            let arguments = StatementArguments(chunk)
            try each("SELECT * FROM business WHERE id IN \(list)", arguments, table: "business") { row in
                let registration = try business(row)
                registrations[registration.id.rawValue] = registration
            }
            try each(
                "SELECT business_id, kind, grade FROM qualification WHERE business_id IN \(list) "
                    + "ORDER BY business_id, position", arguments, table: "qualification"
            ) { row in
                let id: String = try row.value("business_id")
                registrations[id]?.qualifications.append(
                    Qualification(kind: try row.enumeration("kind"), grade: try row.enumeration("grade")))
            }
            try each(
                #"SELECT * FROM "user" WHERE business_id IN \#(list) ORDER BY business_id, position"#, arguments,
                table: "user"
            ) { row in
                let id: String = try row.value("business_id")
                registrations[id]?.users.append(try user(row))
            }
            try each(
                "SELECT * FROM binding WHERE business_id IN \(list) ORDER BY business_id, position", arguments,
                table: "binding"
            ) { row in
                let id: String = try row.value("business_id")
                registrations[id]?.bindings.append(try binding(row))
            }
            try each(
                "SELECT * FROM power_of_attorney WHERE business_id IN \(list) ORDER BY business_id, position",
                arguments, table: "power_of_attorney"
            ) { row in
                let id: String = try row.value("business_id")
                registrations[id]?.powersOfAttorney.append(try powerOfAttorney(row))
            }
        }
        return ids.compactMap { registrations[$0] }
    }

    private static func loadRegistration(_ id: BusinessID, _ db: Database) throws -> BusinessRegistration? {
        try loadRegistrations([id.rawValue], db).first
    }

    private static func business(_ row: StoredRow) throws -> BusinessRegistration {
        let name: String = try row.value("name")
        let postalCode: String = try row.value("postal_code")
        let address: String = try row.value("address")
        let title: String = try row.value("representative_title")
        let representative: String = try row.value("representative_name")
        let corporateNumber: String? = try row.optional("corporate_number")
        let phone: String = try row.value("phone")
        let information = try checked("business") {
            try BusinessInformation(
                name: name, postalCode: postalCode, address: address, representativeTitle: title,
                representativeName: representative, corporateNumber: corporateNumber, phone: phone)
        }
        var registration = BusinessRegistration(
            id: BusinessID(rawValue: try row.value("id")), business: information, at: try row.date("registered_at"))
        registration.version = try row.value("version")
        return registration
    }

    private static func user(_ row: StoredRow) throws -> User {
        let title: String = try row.value("title")
        let name: String = try row.value("name")
        let postalCode: String = try row.value("postal_code")
        let address: String = try row.value("address")
        let phone: String = try row.value("phone")
        let fax: String? = try row.optional("fax")
        let mail: String = try row.value("mail")
        let information = try checked("user") {
            try UserInformation(
                title: title, name: name, postalCode: postalCode, address: address, phone: phone, fax: fax, mail: mail)
        }
        return User(
            stored: UserID(rawValue: try row.value("id")), role: try row.enumeration("role"), information: information,
            status: try row.enumeration("status"), registeredAt: try row.date("registered_at"),
            deletedAt: try row.optionalDate("deleted_at"))
    }

    private static func binding(_ row: StoredRow) throws -> CertificateBinding {
        let der = [UInt8](try row.value("certificate") as Data)
        let userID = UserID(rawValue: try row.value("user_id"))
        let kind: CredentialKind = try row.enumeration("kind")
        let boundAt = try row.date("bound_at")
        let fingerprint: String = try row.value("fingerprint")
        // The DER must still decode (a damaged one is an error now, not at login); one whose SHA-256 is the stored
        // fingerprint is the certificate that decoded when it was bound, and is not decoded again. The values stored
        // when the certificate was bound stand, nothing is derived from it again.
        guard CertificateBinding.storedDERIsCertificate(der, fingerprint: fingerprint) else {
            throw RegistrationError.storeUnreadable(
                table: "binding", column: "certificate", reason: "the stored certificate cannot be decoded")
        }
        return CertificateBinding(
            stored: BindingID(rawValue: try row.value("id")), userID: userID, kind: kind,
            issuer: try row.value("issuer"), subject: try row.value("subject"),
            serialNumber: try row.value("serial_number"), fingerprint: fingerprint,
            notValidBefore: try row.date("not_valid_before"), notValidAfter: try row.date("not_valid_after"),
            certificateDER: der, recordedStatus: try row.enumeration("status"), boundAt: boundAt,
            endedAt: try row.optionalDate("ended_at"),
            supersededBy: (try row.optional("superseded_by") as String?).map(BindingID.init(rawValue:)))
    }

    private static func powerOfAttorney(_ row: StoredRow) throws -> PowerOfAttorney {
        let authorityJSON: String = try row.value("authority")
        let authority: [String]
        do { authority = try JSONDecoder().decode([String].self, from: Data(authorityJSON.utf8)) } catch {
            throw RegistrationError.storeUnreadable(
                table: "power_of_attorney", column: "authority", reason: "it is not a JSON array of strings")
        }
        let agentID = UserID(rawValue: try row.value("agent_id"))
        let principal: String = try row.value("principal")
        let agent: String = try row.value("agent")
        let validFrom = try row.date("valid_from")
        let validUntil = try row.date("valid_until")
        let provider: String = try row.value("provider")
        let reference: String = try row.value("reference")
        var power = try checked("power_of_attorney") {
            try PowerOfAttorney(
                agentID: agentID, principal: principal, agent: agent, authority: authority, validFrom: validFrom,
                validUntil: validUntil, provider: provider, reference: reference)
        }
        power.id = PowerOfAttorneyID(rawValue: try row.value("id"))
        power.isSuperseded = try row.value("is_superseded") as Bool
        return power
    }

    private static func changeRecord(_ row: Row) throws -> ChangeRecord {
        let row = StoredRow(row, table: "change_record")
        return ChangeRecord(
            id: ChangeID(rawValue: try row.value("id")),
            businessID: BusinessID(rawValue: try row.value("business_id")),
            actor: (try row.optional("actor") as String?).map(UserID.init(rawValue:)),
            kind: try row.value("kind"), summary: try row.value("summary"), version: try row.value("version"),
            committedAt: try row.date("committed_at"))
    }

    private static func outboxMessage(_ row: Row) throws -> OutboxMessage {
        let row = StoredRow(row, table: "outbox")
        var message = OutboxMessage(
            changeID: ChangeID(rawValue: try row.value("change_id")),
            businessID: BusinessID(rawValue: try row.value("business_id")), kind: try row.enumeration("kind"),
            payload: [UInt8](try row.value("payload") as Data),
            after: (try row.optional("after_id") as String?).map(OutboxMessageID.init(rawValue:)),
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

    /// The registration's rows in its child tables, as the commit compares them with the new ones.
    private static func storedRows(of id: String, _ db: Database) throws -> [String: [ChildRow]] {
        var stored: [String: [ChildRow]] = [:]
        for table in RegistrationRows.tables {
            let key = table.keyIndex
            stored[table.name] = try Row.fetchAll(
                db.cachedStatement(sql: table.selectSQL(placeholder: "?")), arguments: [id]
            ).map {
                row in
                let values = try table.columns.enumerated().map { index, column in
                    try columnValue(row[index] as DatabaseValue, column.type, table: table.name, column: column.name)
                }
                return (values[key], values)
            }
        }
        return stored
    }

    /// A stored value as the type its column is written with.
    private static func columnValue(_ value: DatabaseValue, _ type: ColumnType, table: String, column: String) throws
        -> ColumnValue
    {
        if value.isNull { return .null }
        let converted: ColumnValue? =
            switch type {
            case .text: String.fromDatabaseValue(value).map(ColumnValue.text)
            case .integer: Int.fromDatabaseValue(value).map(ColumnValue.integer)
            case .real: Double.fromDatabaseValue(value).map(ColumnValue.real)
            case .bytes: Data.fromDatabaseValue(value).map { ColumnValue.bytes([UInt8]($0)) }
            case .boolean: Bool.fromDatabaseValue(value).map(ColumnValue.boolean)
            }
        guard let converted else {
            throw RegistrationError.storeUnreadable(
                table: table, column: column, reason: "it holds a value of another type than \(type)")
        }
        return converted
    }

    /// Values as SQLite arguments.
    private static func arguments(_ values: [ColumnValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .text(let text): text.databaseValue
                case .integer(let integer): integer.databaseValue
                case .real(let real): real.databaseValue
                case .bytes(let bytes): Data(bytes).databaseValue
                case .boolean(let boolean): boolean.databaseValue
                }
            })
    }

    /// Runs one write of a commit, turning a violated key or unique rule into the error it means.
    private static func execute(_ write: RowWrite, _ db: Database) throws {
        do {
            try db.cachedStatement(sql: write.sql).execute(arguments: arguments(write.arguments))
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw write.primaryKeyError ?? error
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw write.uniqueError ?? error
        }
    }

    private static func insert(_ record: ChangeRecord, _ db: Database) throws {
        do {
            try db.execute(
                sql: """
                    INSERT INTO change_record (id, business_id, actor, kind, summary, version, committed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id.rawValue, record.businessID.rawValue, record.actor?.rawValue, record.kind, record.summary,
                    record.version, time(record.committedAt),
                ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw RegistrationError.storeFailure("change \(record.id) is already in the history")
        }
    }

    private static func insert(_ message: OutboxMessage, _ db: Database) throws {
        do {
            try db.execute(
                sql: """
                    INSERT INTO outbox (id, change_id, business_id, kind, idempotency_key, payload, after_id, state,
                        attempts, created_at, next_attempt_at, leased_until, delivered_at, receipt, last_error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    message.id.rawValue, message.changeID.rawValue, message.businessID.rawValue, message.kind.rawValue,
                    message.idempotencyKey, Data(message.payload), message.after?.rawValue, message.state.rawValue,
                    message.attempts, time(message.createdAt), time(message.nextAttemptAt),
                    message.leasedUntil.map(time), message.deliveredAt.map(time), message.receipt, message.lastError,
                ])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw RegistrationError.storeFailure("outbox message \(message.id) is already in the outbox")
        }
    }
}
