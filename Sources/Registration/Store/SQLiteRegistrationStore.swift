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

    /// Opens (or creates) the database file at `path` and migrates it to the current schema.
    /// - Throws: ``RegistrationError/storeFailure(_:)`` when the file cannot be opened or created, is not an SQLite
    ///   database, or was written by a newer version of this store.
    public init(path: String) throws(RegistrationError) {
        location = path
        do {
            database = try DatabasePool(path: path, configuration: Self.configuration())
        } catch {
            throw Self.failure(error, while: "opening the database", at: path)
        }
        try migrate()
    }

    /// A store in a private in-memory database (no WAL): for tests and previews. Its contents are lost when it is
    /// released.
    public static func inMemory() throws(RegistrationError) -> SQLiteRegistrationStore {
        try SQLiteRegistrationStore(inMemory: ())
    }

    private init(inMemory: Void) throws(RegistrationError) {
        location = "memory"
        do {
            database = try DatabaseQueue(configuration: Self.configuration())
        } catch {
            throw Self.failure(error, while: "creating an in-memory database", at: location)
        }
        try migrate()
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "RegistrationStore"
        return configuration
    }

    private func migrate() throws(RegistrationError) {
        let migrator = SQLiteSchema.migrator
        do {
            let superseded = try database.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                throw RegistrationError.storeFailure(
                    "the database at \(location) was written by a newer version of this store; use that version")
            }
            do {
                try migrator.migrate(database)
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
                    db, sql: #"SELECT business_id FROM "user" WHERE id = ?"#, arguments: [id.rawValue])
            else { return nil }
            return try Self.loadRegistration(BusinessID(rawValue: business), db)
        }
    }

    public func registration(boundTo fingerprint: String) async throws(RegistrationError) -> BusinessRegistration? {
        try await read("reading the registration of a certificate") { db in
            // An active binding wins; otherwise the registration that bound the certificate last.
            guard
                let business = try String.fetchOne(
                    db,
                    sql: """
                        SELECT business_id FROM binding WHERE fingerprint = ?
                        ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
                        """,
                    arguments: [fingerprint])
            else { return nil }
            return try Self.loadRegistration(BusinessID(rawValue: business), db)
        }
    }

    public func registrations() async throws(RegistrationError) -> [BusinessRegistration] {
        try await read("reading the registrations") { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM business ORDER BY registered_at, number")
            return try ids.compactMap { id in try Self.loadRegistration(BusinessID(rawValue: id), db) }
        }
    }

    public func history(of id: BusinessID) async throws(RegistrationError) -> [ChangeRecord] {
        try await read("reading the history of \(id)") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM change_record WHERE business_id = ? ORDER BY number", arguments: [id.rawValue]
            ).map(Self.changeRecord)
        }
    }

    public func outbox(state: OutboxMessage.State?) async throws(RegistrationError) -> [OutboxMessage] {
        try await read("reading the outbox") { db in
            let rows =
                if let state {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM outbox WHERE state = ? ORDER BY created_at, number",
                        arguments: [state.rawValue])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY created_at, number")
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
                    db, sql: "SELECT EXISTS (SELECT 1 FROM business WHERE id = ?)", arguments: [id])
                if exists == true { throw RegistrationError.staleChange(registration.id) }
                try db.execute(
                    sql: """
                        INSERT INTO business (version, registered_at, name, postal_code, address, representative_title,
                            representative_name, corporate_number, phone, id)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: businessArguments)
            } else {
                try db.execute(
                    sql: """
                        UPDATE business SET version = ?, registered_at = ?, name = ?, postal_code = ?, address = ?,
                            representative_title = ?, representative_name = ?, corporate_number = ?, phone = ?
                        WHERE id = ? AND version = ?
                        """,
                    arguments: businessArguments + [commit.expectedVersion])
                if db.changesCount == 0 { throw RegistrationError.staleChange(registration.id) }
            }
            // The registration's rows are replaced; deleting its users deletes their bindings and powers of attorney.
            try db.execute(sql: "DELETE FROM qualification WHERE business_id = ?", arguments: [id])
            try db.execute(sql: #"DELETE FROM "user" WHERE business_id = ?"#, arguments: [id])
            try Self.insertChildren(of: registration, db)
            try Self.insert(commit.record, db)
            for message in commit.outbox { try Self.insert(message, db) }
        }
    }

    public func insert(_ challenge: LoginChallenge) async throws(RegistrationError) {
        try await write("keeping a login challenge") { db in
            do {
                try db.execute(
                    sql: "INSERT INTO login_challenge (id, nonce, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                    arguments: [
                        challenge.id, Data(challenge.nonce), Self.time(challenge.issuedAt),
                        Self.time(challenge.expiresAt),
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw RegistrationError.storeFailure("a login challenge \(challenge.id) exists already")
            }
        }
    }

    public func takeChallenge(_ id: String) async throws(RegistrationError) -> LoginChallenge? {
        try await write("taking a login challenge") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM login_challenge WHERE id = ?", arguments: [id])
            else { return nil }
            try db.execute(sql: "DELETE FROM login_challenge WHERE id = ?", arguments: [id])
            return LoginChallenge(
                id: try Self.column(row, "id"), nonce: [UInt8](try Self.column(row, "nonce") as Data),
                issuedAt: try Self.date(row, "issued_at"), expiresAt: try Self.date(row, "expires_at"))
        }
    }

    public func purgeChallenges(expiredBefore date: Date) async throws(RegistrationError) -> Int {
        try await write("purging expired login challenges") { db in
            try db.execute(sql: "DELETE FROM login_challenge WHERE expires_at < ?", arguments: [Self.time(date)])
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

    // MARK: Diagnostics (tests)

    /// Runs raw SQL in a write transaction: lets tests check what the schema refuses.
    func execute(sql: String) async throws(RegistrationError) {
        try await write("running SQL") { db in try db.execute(sql: sql) }
    }

    /// The first column of the first row of a query (e.g. `PRAGMA journal_mode`) on the writing connection, as text.
    func text(sql: String) async throws(RegistrationError) -> String? {
        try await write("running a query") { db in try String.fetchOne(db, sql: sql) }
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

    /// A column's value; a value of the wrong type is an error, never a trap.
    private static func column<Value: DatabaseValueConvertible>(_ row: Row, _ name: String) throws -> Value {
        guard let value = Value.fromDatabaseValue(try databaseValue(row, name)) else {
            throw RegistrationError.storeFailure("column \(name) holds an unreadable value")
        }
        return value
    }

    private static func optionalColumn<Value: DatabaseValueConvertible>(_ row: Row, _ name: String) throws -> Value? {
        let value = try databaseValue(row, name)
        if value.isNull { return nil }
        guard let converted = Value.fromDatabaseValue(value) else {
            throw RegistrationError.storeFailure("column \(name) holds an unreadable value")
        }
        return converted
    }

    /// The raw value of a column. GRDB's `row[name]` traps when the row has no such column, which a file whose
    /// schema was changed outside this store (or damaged) gives: that is an error here.
    private static func databaseValue(_ row: Row, _ name: String) throws -> DatabaseValue {
        guard row.hasColumn(name) else {
            throw RegistrationError.storeFailure(
                "the database has no column \(name) where this store wrote one; the file was changed outside the "
                    + "store or is damaged: restore it from a backup")
        }
        return row[name]
    }

    private static func date(_ row: Row, _ name: String) throws -> Date {
        Date(timeIntervalSinceReferenceDate: try column(row, name))
    }

    private static func optionalDate(_ row: Row, _ name: String) throws -> Date? {
        try (optionalColumn(row, name) as Double?).map { Date(timeIntervalSinceReferenceDate: $0) }
    }

    private static func enumeration<Value: RawRepresentable>(_ row: Row, _ name: String) throws -> Value
    where Value.RawValue == String {
        let text: String = try column(row, name)
        guard let value = Value(rawValue: text) else {
            throw RegistrationError.storeFailure("column \(name) holds an unknown value")
        }
        return value
    }

    /// Rebuilds a value through its checking initialiser; a stored value that no longer passes is a store failure.
    private static func checked<Value>(_ make: () throws -> Value) throws -> Value {
        do { return try make() } catch let error as RegistrationError {
            if case .storeFailure = error { throw error }
            throw RegistrationError.storeFailure("a stored field no longer passes its check: \(error)")
        }
    }

    private static func loadRegistration(_ id: BusinessID, _ db: Database) throws -> BusinessRegistration? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM business WHERE id = ?", arguments: [id.rawValue])
        else { return nil }
        let name: String = try column(row, "name")
        let postalCode: String = try column(row, "postal_code")
        let address: String = try column(row, "address")
        let title: String = try column(row, "representative_title")
        let representative: String = try column(row, "representative_name")
        let corporateNumber: String? = try optionalColumn(row, "corporate_number")
        let phone: String = try column(row, "phone")
        let information = try checked {
            try BusinessInformation(
                name: name, postalCode: postalCode, address: address, representativeTitle: title,
                representativeName: representative, corporateNumber: corporateNumber, phone: phone)
        }
        var registration = BusinessRegistration(id: id, business: information, at: try date(row, "registered_at"))
        registration.version = try column(row, "version")
        registration.qualifications = try Row.fetchAll(
            db, sql: "SELECT kind, grade FROM qualification WHERE business_id = ? ORDER BY position",
            arguments: [id.rawValue]
        ).map { row in Qualification(kind: try enumeration(row, "kind"), grade: try enumeration(row, "grade")) }
        registration.users = try Row.fetchAll(
            db, sql: #"SELECT * FROM "user" WHERE business_id = ? ORDER BY position"#, arguments: [id.rawValue]
        ).map(user)
        registration.bindings = try Row.fetchAll(
            db, sql: "SELECT * FROM binding WHERE business_id = ? ORDER BY position", arguments: [id.rawValue]
        ).map(binding)
        registration.powersOfAttorney = try Row.fetchAll(
            db, sql: "SELECT * FROM power_of_attorney WHERE business_id = ? ORDER BY position",
            arguments: [id.rawValue]
        ).map(powerOfAttorney)
        return registration
    }

    private static func user(_ row: Row) throws -> User {
        let title: String = try column(row, "title")
        let name: String = try column(row, "name")
        let postalCode: String = try column(row, "postal_code")
        let address: String = try column(row, "address")
        let phone: String = try column(row, "phone")
        let fax: String? = try optionalColumn(row, "fax")
        let mail: String = try column(row, "mail")
        let information = try checked {
            try UserInformation(
                title: title, name: name, postalCode: postalCode, address: address, phone: phone, fax: fax, mail: mail)
        }
        var user = User(
            role: try enumeration(row, "role"), information: information, at: try date(row, "registered_at"))
        user.id = UserID(rawValue: try column(row, "id"))
        user.status = try enumeration(row, "status")
        user.deletedAt = try optionalDate(row, "deleted_at")
        return user
    }

    private static func binding(_ row: Row) throws -> CertificateBinding {
        let der = [UInt8](try column(row, "certificate") as Data)
        let userID = UserID(rawValue: try column(row, "user_id"))
        let kind: CredentialKind = try enumeration(row, "kind")
        let boundAt = try date(row, "bound_at")
        var binding = try checked {
            let certificate: Certificate
            do { certificate = try Certificate(untrustedDER: der) } catch {
                throw RegistrationError.storeFailure("a stored certificate cannot be decoded")
            }
            return try CertificateBinding(certificate: certificate, kind: kind, userID: userID, at: boundAt)
        }
        // The stored values, as they were bound, stand (not what decoding the certificate again gives).
        binding.id = BindingID(rawValue: try column(row, "id"))
        binding.issuer = try column(row, "issuer")
        binding.subject = try column(row, "subject")
        binding.serialNumber = try column(row, "serial_number")
        binding.fingerprint = try column(row, "fingerprint")
        binding.notValidBefore = try date(row, "not_valid_before")
        binding.notValidAfter = try date(row, "not_valid_after")
        binding.certificateDER = der
        binding.recordedStatus = try enumeration(row, "status")
        binding.endedAt = try optionalDate(row, "ended_at")
        binding.supersededBy = (try optionalColumn(row, "superseded_by") as String?).map(BindingID.init(rawValue:))
        return binding
    }

    private static func powerOfAttorney(_ row: Row) throws -> PowerOfAttorney {
        let authorityJSON: String = try column(row, "authority")
        let authority: [String]
        do { authority = try JSONDecoder().decode([String].self, from: Data(authorityJSON.utf8)) } catch {
            throw RegistrationError.storeFailure("column authority holds an unreadable value")
        }
        let agentID = UserID(rawValue: try column(row, "agent_id"))
        let principal: String = try column(row, "principal")
        let agent: String = try column(row, "agent")
        let validFrom = try date(row, "valid_from")
        let validUntil = try date(row, "valid_until")
        let provider: String = try column(row, "provider")
        let reference: String = try column(row, "reference")
        var power = try checked {
            try PowerOfAttorney(
                agentID: agentID, principal: principal, agent: agent, authority: authority, validFrom: validFrom,
                validUntil: validUntil, provider: provider, reference: reference)
        }
        power.id = PowerOfAttorneyID(rawValue: try column(row, "id"))
        power.isSuperseded = try column(row, "is_superseded") as Bool
        return power
    }

    private static func changeRecord(_ row: Row) throws -> ChangeRecord {
        ChangeRecord(
            id: ChangeID(rawValue: try column(row, "id")),
            businessID: BusinessID(rawValue: try column(row, "business_id")),
            actor: (try optionalColumn(row, "actor") as String?).map(UserID.init(rawValue:)),
            kind: try column(row, "kind"), summary: try column(row, "summary"), version: try column(row, "version"),
            committedAt: try date(row, "committed_at"))
    }

    private static func outboxMessage(_ row: Row) throws -> OutboxMessage {
        var message = OutboxMessage(
            changeID: ChangeID(rawValue: try column(row, "change_id")),
            businessID: BusinessID(rawValue: try column(row, "business_id")), kind: try enumeration(row, "kind"),
            payload: [UInt8](try column(row, "payload") as Data),
            after: (try optionalColumn(row, "after_id") as String?).map(OutboxMessageID.init(rawValue:)),
            at: try date(row, "created_at"))
        message.id = OutboxMessageID(rawValue: try column(row, "id"))
        message.idempotencyKey = try column(row, "idempotency_key")
        message.state = try enumeration(row, "state")
        message.attempts = try column(row, "attempts")
        message.nextAttemptAt = try date(row, "next_attempt_at")
        message.leasedUntil = try optionalDate(row, "leased_until")
        message.deliveredAt = try optionalDate(row, "delivered_at")
        message.receipt = try optionalColumn(row, "receipt")
        message.lastError = try optionalColumn(row, "last_error")
        return message
    }

    // MARK: Values → rows

    private static func insertChildren(of registration: BusinessRegistration, _ db: Database) throws {
        let id = registration.id.rawValue
        for (position, qualification) in registration.qualifications.enumerated() {
            try db.execute(
                sql: "INSERT INTO qualification (business_id, position, kind, grade) VALUES (?, ?, ?, ?)",
                arguments: [id, position, qualification.kind.rawValue, qualification.grade.rawValue])
        }
        for (position, user) in registration.users.enumerated() {
            let information = user.information
            do {
                try db.execute(
                    sql: """
                        INSERT INTO "user" (id, business_id, position, role, title, name, postal_code, address, phone,
                            fax, mail, status, registered_at, deleted_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        user.id.rawValue, id, position, user.role.rawValue, information.title, information.name,
                        information.postalCode.text, information.address, information.phone.text, information.fax?.text,
                        information.mail.text, user.status.rawValue, time(user.registeredAt), user.deletedAt.map(time),
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw RegistrationError.storeFailure("user \(user.id) belongs to another registration")
            }
        }
        for (position, binding) in registration.bindings.enumerated() {
            do {
                try db.execute(
                    sql: """
                        INSERT INTO binding (id, business_id, user_id, position, kind, issuer, subject, serial_number,
                            fingerprint, not_valid_before, not_valid_after, certificate, status, bound_at, ended_at,
                            superseded_by)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        binding.id.rawValue, id, binding.userID.rawValue, position, binding.kind.rawValue,
                        binding.issuer,
                        binding.subject, binding.serialNumber, binding.fingerprint, time(binding.notValidBefore),
                        time(binding.notValidAfter), Data(binding.certificateDER), binding.recordedStatus.rawValue,
                        time(binding.boundAt), binding.endedAt.map(time), binding.supersededBy?.rawValue,
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw RegistrationError.storeFailure(
                    "certificate binding \(binding.id) belongs to another registration")
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // The only unique rule a binding of a consistent registration can break: the active fingerprint.
                throw RegistrationError.certificateAlreadyBound(fingerprint: binding.fingerprint)
            }
        }
        for (position, power) in registration.powersOfAttorney.enumerated() {
            let authority = String(decoding: try JSONEncoder().encode(power.authority), as: UTF8.self)
            do {
                try db.execute(
                    sql: """
                        INSERT INTO power_of_attorney (id, business_id, agent_id, position, principal, agent, authority,
                            valid_from, valid_until, provider, reference, is_superseded)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        power.id.rawValue, id, power.agentID.rawValue, position, power.principal, power.agent,
                        authority,
                        time(power.validFrom), time(power.validUntil), power.provider, power.reference,
                        power.isSuperseded,
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw RegistrationError.storeFailure("power of attorney \(power.id) belongs to another registration")
            }
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
