import Foundation
import Testing
import X509

@testable import Registration

/// What the stores hold to under concurrent writers and under a database changed behind their back: the rules of
/// the form "at most one" enforced by the store, rows that cannot be read back said in a typed error without the
/// personal data they hold, and databases of another version or program refused.
@Suite("Store integrity: at most one, unreadable rows, foreign and newer databases")
struct StoreIntegrityTests {
    typealias Sample = StoreTestData

    // MARK: At most one business per 法人番号

    @Test("a second business with one 法人番号 is refused by the store itself", arguments: StoreUnderTest.allCases)
    func corporateNumberUnique(_ kind: StoreUnderTest) async throws {
        let store = try await kind.make()
        let number = try CorporateNumber("4011001098993")
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))

        var second = try Sample.simpleRegistration(name: "別の商事")
        second.business = try Sample.businessInformation("別の商事", corporateNumber: number.digits)
        await #expect(throws: RegistrationError.corporateNumberAlreadyRegistered(number)) {
            try await store.commit(Sample.newRegistrationCommit(second))
        }
        #expect(try await store.registrations() == [first])
        #expect(try await store.registration(corporateNumber: number) == first)

        // A change that gives another business the number is refused the same way.
        let third = try Sample.simpleRegistration(name: "三の商事")
        try await store.commit(Sample.newRegistrationCommit(third))
        var renumbered = try Sample.nextVersion(of: third)
        renumbered.business = try Sample.businessInformation("三の商事", corporateNumber: number.digits)
        await #expect(throws: RegistrationError.corporateNumberAlreadyRegistered(number)) {
            try await store.commit(Sample.change(of: renumbered, at: Sample.at(1)))
        }
        #expect(try await store.registration(third.id) == third)

        // Businesses without a 法人番号 (sole proprietors) are not counted.
        for name in ["個人事業A", "個人事業B"] {
            var registration = try Sample.simpleRegistration(name: name)
            registration.business = try Sample.businessInformation(name, corporateNumber: "")
            try await store.commit(Sample.newRegistrationCommit(registration))
        }
        #expect(try await store.registrations().count == 4)
    }

    @Test(
        "eight registrations of one 法人番号 at once (prepared, then committed together): exactly one is stored",
        arguments: [StoreUnderTest.inMemory, .sqliteFile, .postgres])
    func corporateNumberRace(_ kind: StoreUnderTest) async throws {
        let path = try StoreTests.temporaryPath()
        let schema = PostgresTestDatabase.newSchema()
        // For SQLite, eight stores on one file; for PostgreSQL, eight stores (each with its own connections) on one
        // schema: as eight `portal register` processes have.
        let shared: (any RegistrationStore)? = kind == .inMemory ? InMemoryRegistrationStore() : nil
        func store() async throws -> any RegistrationStore {
            if let shared { return shared }
            if kind == .postgres { return try await PostgresTestDatabase.store(schema: schema) }
            return try SQLiteRegistrationStore(path: path)
        }
        let bench = try ServiceTestBench()
        defer { bench.remove() }
        var prepared: [(RegistrationService, PreparedChange)] = []
        for index in 0..<8 {
            let service = RegistrationService(store: try await store(), portal: bench.portal)
            let credential = try bench.credential(name: "入札 太郎\(index)")
            prepared.append(
                (
                    service,
                    try await service.prepareRegistration(
                        of: ServiceTestBench.business(), representative: ServiceTestBench.user(),
                        certificate: credential.certificate, kind: .icCard, by: .portal(operator: "test"))
                ))
        }
        let outcomes = await withTaskGroup(of: RegistrationError?.self) { group in
            for (service, change) in prepared {
                group.addTask {
                    await StoreTests.outcome { () async throws(RegistrationError) in
                        _ = try await service.commit(change)
                    }
                }
            }
            return await group.reduce(into: [RegistrationError?]()) { $0.append($1) }
        }
        let number = try CorporateNumber("4011001098993")
        #expect(outcomes.filter { $0 == nil }.count == 1, "\(outcomes)")
        #expect(
            outcomes.compactMap { $0 }.allSatisfy { $0 == .corporateNumberAlreadyRegistered(number) }, "\(outcomes)")
        let registrations = try await store().registrations()
        #expect(registrations.count == 1)
        // The losers' hand-overs and mails were not written either.
        let outbox = try await store().outbox(state: nil)
        #expect(!outbox.isEmpty && outbox.allSatisfy { $0.businessID == registrations.first?.id })
    }

    @Test("two active representatives in one business are refused, in the store and by the SQLite schema")
    func oneRepresentative() async throws {
        let store = try SQLiteRegistrationStore(path: try StoreTests.temporaryPath())
        var registration = try Sample.simpleRegistration()
        registration.users.append(try Sample.representative(at: Sample.epoch))
        await #expect(throws: RegistrationError.self) {
            try await store.commit(Sample.newRegistrationCommit(registration))
        }
        let stored = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(stored))
        let error = await #expect(throws: RegistrationError.self) {
            try await store.execute(
                sql: """
                    INSERT INTO "user" (id, business_id, position, role, title, name, postal_code, address, phone, mail,
                        status, registered_at)
                    VALUES ('U-SECOND', '\(stored.id)', 5, 'representative', 't', 'n', '100-0013', 'a', '0312345678',
                        'a@b.jp', 'active', 0)
                    """)
        }
        #expect(StoreTests.failureSentence(error)?.contains("UNIQUE") == true, "\(String(describing: error))")
    }

    // MARK: Rows that cannot be read back

    /// The personal data of `Sample.fullRegistration()`: none of it may appear in an error.
    static let personalData = [
        "調達 太郎", "入札 花子", "taro@example.co.jp", "hanako@example.co.jp", "東京都千代田区", "大阪府大阪市", "06-1234-5679",
    ]

    static func storeWithFullRegistration() async throws -> (path: String, SQLiteRegistrationStore) {
        let path = try StoreTests.temporaryPath()
        let store = try SQLiteRegistrationStore(path: path)
        try await store.commit(Sample.newRegistrationCommit(try Sample.fullRegistration()))
        return (path, store)
    }

    @Test(
        "a table altered behind the store's back: a typed error naming table and column, no personal data",
        arguments: [
            (#"ALTER TABLE "user" DROP COLUMN fax"#, "user", "fax"),
            (#"UPDATE "user" SET registered_at = x'00ff'"#, "user", "registered_at"),
            (#"UPDATE "user" SET name = x'ff' WHERE role = 'agent'"#, "user", "name"),
            (#"UPDATE "user" SET postal_code = '1-2' WHERE role = 'agent'"#, "user", "postal_code"),
            ("UPDATE binding SET certificate = x'3000'", "binding", "certificate"),
            ("UPDATE binding SET not_valid_after = 'soon'", "binding", "not_valid_after"),
            ("ALTER TABLE business DROP COLUMN phone", "business", "phone"),
            ("UPDATE power_of_attorney SET authority = '{'", "power_of_attorney", "authority"),
        ])
    func alteredRows(sql: String, table: String, column: String) async throws {
        let (path, store) = try await Self.storeWithFullRegistration()
        try await store.execute(sql: sql)
        let reopened = try SQLiteRegistrationStore(path: path)
        let error = await #expect(throws: RegistrationError.self) { try await reopened.registrations() }
        #expect(error == .storeUnreadable(table: table, column: column, reason: Self.reason(of: error)))
        let sentence = String(describing: error)
        for value in Self.personalData { #expect(!sentence.contains(value), "\(sentence)") }
    }

    @Test("an outbox or history table altered behind the store's back is a typed error too")
    func alteredOutboxAndHistory() async throws {
        let (path, store) = try await Self.storeWithFullRegistration()
        try await store.execute(sql: "ALTER TABLE outbox DROP COLUMN receipt")
        try await store.execute(sql: "UPDATE change_record SET committed_at = 'yesterday'")
        let reopened = try SQLiteRegistrationStore(path: path)
        let outbox = await #expect(throws: RegistrationError.self) { try await reopened.outbox(state: nil) }
        #expect(outbox == .storeUnreadable(table: "outbox", column: "receipt", reason: Self.reason(of: outbox)))
        let id = try #require(try await reopened.registrations().first?.id)
        let history = await #expect(throws: RegistrationError.self) { try await reopened.history(of: id) }
        #expect(
            history
                == .storeUnreadable(table: "change_record", column: "committed_at", reason: Self.reason(of: history)))
    }

    static func reason(of error: RegistrationError?) -> String {
        if case .storeUnreadable(_, _, let reason) = error { return reason }
        return "(not storeUnreadable)"
    }

    // MARK: Databases of another version or program

    @Test("a user_version above ours, or one we never write, is refused")
    func userVersion() async throws {
        for (version, expected) in [(99, "newer version"), (1, "never writes"), (-3, "never writes")] {
            let path = try StoreTests.temporaryPath()
            try await SQLiteRegistrationStore(path: path).execute(sql: "PRAGMA user_version = \(version)")
            let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
            #expect(StoreTests.failureSentence(error)?.contains(expected) == true, "\(String(describing: error))")
        }
    }

    @Test("an SQLite database of another program is refused, never migrated into")
    func foreignDatabase() async throws {
        let path = try StoreTests.temporaryPath()
        let store = try SQLiteRegistrationStore(path: path)
        try await store.execute(sql: "DROP TABLE grdb_migrations")
        try await store.execute(sql: "PRAGMA user_version = 0")
        let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
        #expect(
            StoreTests.failureSentence(error)?.contains("database of another program") == true,
            "\(String(describing: error))")
    }

    @Test("a database from before version 2 holding one 法人番号 twice is not migrated; the error names both")
    func migrationWithDuplicates() async throws {
        let path = try StoreTests.temporaryPath()
        let store = try SQLiteRegistrationStore(path: path)
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))
        // Back to version 1, then the duplicate that version 1 let through.
        try await store.execute(sql: "DROP INDEX business_corporate_number")
        try await store.execute(sql: "DROP INDEX user_one_representative")
        try await store.execute(sql: "DROP INDEX business_by_registration")
        try await store.execute(sql: "DROP INDEX binding_active_expiry")
        try await store.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v2', 'v3')")
        try await store.execute(sql: "PRAGMA user_version = 0")
        try await store.execute(
            sql: """
                INSERT INTO business (id, version, registered_at, name, postal_code, address, representative_title,
                    representative_name, corporate_number, phone)
                SELECT 'B-DUPLICATE', 1, registered_at, name, postal_code, address, representative_title,
                    representative_name, corporate_number, phone FROM business
                """)
        let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
        let sentence = try #require(StoreTests.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("4011001098993"))
        #expect(sentence.contains("B-DUPLICATE"))
        #expect(sentence.contains(first.id.rawValue))
    }

    @Test("opened for reading only, a missing path is said and not created, and a 0-byte file is refused")
    func existingOnly() async throws {
        let missing = try StoreTests.temporaryPath("typo.sqlite")
        let error = #expect(throws: RegistrationError.self) {
            try SQLiteRegistrationStore(path: missing, mode: .existingOnly)
        }
        #expect(StoreTests.failureSentence(error)?.contains("no database at") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: missing))

        let empty = try StoreTests.temporaryPath("empty.sqlite")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let emptyError = #expect(throws: RegistrationError.self) {
            try SQLiteRegistrationStore(path: empty, mode: .existingOnly)
        }
        #expect(StoreTests.failureSentence(emptyError)?.contains("empty (0 bytes)") == true)
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)

        // A command that writes makes its database there, and then reading finds it.
        _ = try SQLiteRegistrationStore(path: empty)
        #expect(try await SQLiteRegistrationStore(path: empty, mode: .existingOnly).registrations().isEmpty)
    }
}
