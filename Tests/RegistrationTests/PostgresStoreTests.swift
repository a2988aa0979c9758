import Foundation
import Testing

@testable import Registration
@testable import RegistrationPostgres

/// What only the PostgreSQL store has: addresses and passwords, a server that is down or refuses the login, a
/// connection lost mid-commit, migrations under an advisory lock, several servers (stores with connections of their
/// own) on one schema. The conformance suite (StoreTests, StoreIntegrityTests) runs on it too.
@Suite("PostgreSQL store: connections, migrations, several servers")
struct PostgresStoreTests {
    typealias Sample = StoreTestData

    // MARK: Addresses

    @Test("a URL gives every part; the description and errors never hold the password")
    func url() throws {
        let configuration = try PostgresStoreConfiguration(
            url: "postgresql://portal:s%40cret@db.example.jp:6543/registrations?sslmode=require&schema=portal_a",
            environment: [:])
        #expect(configuration.host == "db.example.jp")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "portal")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "registrations")
        #expect(configuration.schema == "portal_a")
        #expect(configuration.tls == .require)
        #expect(configuration.description == "postgres://portal@db.example.jp:6543/registrations?schema=portal_a")

        // What the URL leaves out comes from libpq's variables.
        let fromEnvironment = try PostgresStoreConfiguration(
            url: "postgres:///", environment: ["PGHOST": "10.0.0.5", "PGUSER": "bidder", "PGPASSWORD": "pw"])
        #expect(fromEnvironment.host == "10.0.0.5" && fromEnvironment.port == 5432)
        #expect(fromEnvironment.username == "bidder" && fromEnvironment.password == "pw")
        #expect(fromEnvironment.database == "bidder")

        for bad in [
            "postgres://u:secret@host/db?sslmode=verify-ca", "mysql://u:secret@host/db",
            "postgres://u:secret@host/db?x=1",
        ] {
            let error = #expect(throws: RegistrationError.self) {
                try PostgresStoreConfiguration(url: bad, environment: [:])
            }
            #expect(!String(describing: error).contains("secret"), "\(String(describing: error))")
        }
    }

    @Test("a server that is not there: a store failure saying so, without the password")
    func unreachable() async throws {
        let configuration = try PostgresStoreConfiguration(
            url: "postgres://user:secret@127.0.0.1:1/x", environment: [:])
        let error = await #expect(throws: RegistrationError.self) { try await PostgresRegistrationStore(configuration) }
        let sentence = try #require(StoreTests.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("cannot be reached"), "\(sentence)")
        #expect(sentence.contains("postgres://user@127.0.0.1:1/x"), "\(sentence)")
        #expect(!sentence.contains("secret"), "\(sentence)")
    }

    @Test("a wrong password, or a database that does not exist: said, without the password")
    func refusedLogin() async throws {
        var configuration = try PostgresTestDatabase.configuration()
        configuration.password = "not-the-password-\(UUID().uuidString)"
        let password = try #require(configuration.password)
        let error = await #expect(throws: RegistrationError.self) { try await PostgresRegistrationStore(configuration) }
        let sentence = try #require(StoreTests.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("refused the login"), "\(sentence)")
        #expect(!sentence.contains(password), "\(sentence)")

        var missing = try PostgresTestDatabase.configuration()
        missing.database = "pi_test_no_such_database"
        let missingError = await #expect(throws: RegistrationError.self) {
            try await PostgresRegistrationStore(missing)
        }
        #expect(StoreTests.failureSentence(missingError)?.contains("no such database") == true)
    }

    // MARK: Migrations

    @Test("migrations: eight servers starting at once on a new schema apply each version once; reopening keeps all")
    func migrationsOnce() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let stores = try await withThrowingTaskGroup(of: PostgresRegistrationStore.self) { group in
            for _ in 0..<8 {
                group.addTask { try await PostgresTestDatabase.store(schema: schema, maximumConnections: 1) }
            }
            return try await group.reduce(into: [PostgresRegistrationStore]()) { $0.append($1) }
        }
        let registration = try Sample.fullRegistration()
        try await stores[0].commit(Sample.newRegistrationCommit(registration))
        let reopened = try await PostgresTestDatabase.store(schema: schema)
        #expect(
            try await reopened.text(
                sql: "SELECT string_agg(version::text, ',' ORDER BY version) AS value FROM registration_schema")
                == "1,2,3,4,5")
        #expect(try await reopened.registration(registration.id) == registration)
        for store in stores { await store.close() }
    }

    @Test("a schema written by a newer store, or holding another program's tables, is refused")
    func newerOrForeignSchema() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        try await store.execute(sql: "INSERT INTO registration_schema (version) VALUES (99)")
        let error = await #expect(throws: RegistrationError.self) {
            try await PostgresTestDatabase.store(schema: schema)
        }
        #expect(StoreTests.failureSentence(error)?.contains("newer version") == true, "\(String(describing: error))")

        let foreign = PostgresTestDatabase.newSchema()
        try await store.execute(sql: "CREATE SCHEMA \(foreign)", "CREATE TABLE \(foreign).invoices (id integer)")
        let foreignError = await #expect(throws: RegistrationError.self) {
            try await PostgresTestDatabase.store(schema: foreign)
        }
        #expect(
            StoreTests.failureSentence(foreignError)?.contains("another program") == true,
            "\(String(describing: foreignError))")
    }

    @Test("opened to read only, a schema without registration tables is said and not created")
    func readOnlyCreatesNothing() async throws {
        let configuration = try PostgresTestDatabase.configuration()
        let error = await #expect(throws: RegistrationError.self) {
            try await PostgresRegistrationStore(configuration, createIfMissing: false)
        }
        #expect(
            StoreTests.failureSentence(error)?.contains("there is no registration database at") == true,
            "\(String(describing: error))")
        let other = try await PostgresTestDatabase.store()
        let schema = try #require(configuration.schema)
        #expect(
            try await other.text(sql: "SELECT count(*)::text AS value FROM pg_namespace WHERE nspname = '\(schema)'")
                == "0")
        // Once a command that writes made it, reading finds it.
        _ = try await PostgresRegistrationStore(configuration)
        #expect(try await PostgresRegistrationStore(configuration, createIfMissing: false).registrations().isEmpty)
    }

    // MARK: The schema's own rules

    @Test("the constraints refuse a second active binding and a second representative, whoever writes them")
    func constraints() async throws {
        let store = try await PostgresTestDatabase.store()
        let registration = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        let binding = registration.bindings[0]
        let copy = """
            INSERT INTO binding (id, business_id, user_id, position, kind, issuer, subject, serial_number, fingerprint,
                not_valid_before, not_valid_after, certificate, status, bound_at)
            SELECT 'C-COPY', business_id, user_id, 9, kind, issuer, subject, serial_number, fingerprint,
                not_valid_before, not_valid_after, certificate, '%@', bound_at FROM binding WHERE id = '\(binding.id)'
            """
        let error = await #expect(throws: RegistrationError.self) {
            try await store.execute(sql: copy.replacingOccurrences(of: "%@", with: "active"))
        }
        let sentence = try #require(StoreTests.failureSentence(error))
        #expect(sentence.contains("23505") && sentence.contains("binding_active_fingerprint"), "\(sentence)")
        #expect(!sentence.contains(binding.fingerprint), "\(sentence)")
        try await store.execute(sql: copy.replacingOccurrences(of: "%@", with: "removed"))

        let representative = await #expect(throws: RegistrationError.self) {
            try await store.execute(
                sql: """
                    INSERT INTO "user" (id, business_id, position, role, title, name, postal_code, address, phone, mail,
                        status, registered_at)
                    VALUES ('U-SECOND', '\(registration.id)', 5, 'representative', 't', 'n', '100-0013', 'a',
                        '0312345678', 'a@b.jp', 'active', 0)
                    """)
        }
        #expect(StoreTests.failureSentence(representative)?.contains("user_one_representative") == true)
    }

    @Test(
        "a table altered behind the store's back: a typed error naming table and column, no personal data",
        arguments: [
            (#"ALTER TABLE "user" DROP COLUMN fax"#, "user", "fax"),
            (#"ALTER TABLE "user" ALTER COLUMN registered_at TYPE text"#, "user", "registered_at"),
            (#"UPDATE "user" SET postal_code = '1-2' WHERE role = 'agent'"#, "user", "postal_code"),
            (#"UPDATE binding SET certificate = '\x3000'"#, "binding", "certificate"),
            ("UPDATE binding SET not_valid_after = 'Infinity'", "binding", "not_valid_after"),
            ("ALTER TABLE business DROP COLUMN phone", "business", "phone"),
            ("UPDATE power_of_attorney SET authority = '{'", "power_of_attorney", "authority"),
            ("ALTER TABLE outbox DROP COLUMN receipt", "outbox", "receipt"),
        ])
    func alteredRows(sql: String, table: String, column: String) async throws {
        let store = try await PostgresTestDatabase.store()
        try await store.commit(Sample.newRegistrationCommit(try Sample.fullRegistration()))
        try await store.execute(sql: sql)
        let error = await #expect(throws: RegistrationError.self) {
            if table == "outbox" { _ = try await store.outbox(state: nil) } else { _ = try await store.registrations() }
        }
        #expect(
            error == .storeUnreadable(table: table, column: column, reason: StoreIntegrityTests.reason(of: error)),
            "\(String(describing: error))")
        let sentence = String(describing: error)
        for value in StoreIntegrityTests.personalData { #expect(!sentence.contains(value), "\(sentence)") }
    }

    // MARK: Connections

    @Test("a connection lost mid-commit: a store failure saying so, and the commit is absent")
    func connectionLostMidCommit() async throws {
        let configuration = try PostgresTestDatabase.configuration()
        let store = try await PostgresRegistrationStore(configuration)
        let first = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(first))
        // Another server holds the business row, so the commit waits on its UPDATE; then its connection is killed.
        // Each step waits for the one before (up to 20 s), so a loaded machine changes the timing, not the outcome.
        var adminConfiguration = try PostgresTestDatabase.configuration(schema: configuration.schema)
        adminConfiguration.applicationName = "pi-test-admin-\(UUID().uuidString.prefix(8))"
        let admin = try await PostgresRegistrationStore(adminConfiguration)
        let next = try Sample.nextVersion(of: first)
        let name = configuration.applicationName
        async let locked: Void = admin.execute(
            sql: "SELECT 1 FROM business FOR UPDATE",
            """
            DO $$ DECLARE waiting int; BEGIN
                FOR attempt IN 1..400 LOOP
                    PERFORM pg_stat_clear_snapshot();
                    SELECT count(*) INTO waiting FROM pg_stat_activity
                        WHERE application_name = '\(name)' AND wait_event_type = 'Lock';
                    EXIT WHEN waiting > 0;
                    PERFORM pg_sleep(0.05);
                END LOOP;
                PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = '\(name)' AND wait_event_type = 'Lock';
            END $$
            """)
        // The commit starts once the row is held: when the admin's connection runs its waiting loop.
        let watcher = try await PostgresTestDatabase.store()
        for _ in 0..<400 {
            let holding = try await watcher.text(
                sql: """
                    SELECT count(*)::text AS value FROM pg_stat_activity
                    WHERE application_name = '\(adminConfiguration.applicationName)' AND query LIKE 'DO $$%'
                        AND state = 'active'
                    """)
            if holding != "0" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let error = await StoreTests.outcome { () async throws(RegistrationError) in
            try await store.commit(Sample.change(of: next, at: Sample.at(1)))
        }
        try await locked
        let sentence = try #require(StoreTests.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("was lost"), "\(sentence)")
        // It was lost before COMMIT was sent: the server rolled the transaction back.
        #expect(sentence.contains("nothing was changed"), "\(sentence)")
        // The commit is absent, and the store goes on with a new connection.
        #expect(try await store.registration(first.id) == first)
        #expect(try await store.history(of: first.id).count == 1)
        try await store.commit(Sample.change(of: next, at: Sample.at(2)))
        #expect(try await admin.registration(first.id)?.version == 2)
    }

    @Test("connections killed while idle (a server restart): the next call opens new ones")
    func idleConnectionsKilled() async throws {
        let configuration = try PostgresTestDatabase.configuration()
        let store = try await PostgresRegistrationStore(configuration)
        let admin = try await PostgresTestDatabase.store()
        try await admin.execute(
            sql: """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = '\(configuration.applicationName)'
                """)
        try await Task.sleep(for: .milliseconds(100))
        let registration = try Sample.simpleRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        #expect(try await store.registration(registration.id) == registration)
        // Reads run without BEGIN: the first statement after a restart is the read itself.
        try await admin.execute(
            sql: """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = '\(configuration.applicationName)'
                """)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await store.registration(boundTo: registration.bindings[0].fingerprint) == registration)
        #expect(try await store.history(of: registration.id).count == 1)
    }

    @Test("the look-ups and the unfiltered pages are prepared once per connection; a filtered page is not")
    func preparedLookups() async throws {
        // One connection: what the reads prepared is in its session's pg_prepared_statements.
        let store = try await PostgresTestDatabase.store(maximumConnections: 1)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        func prepared() async throws -> Set<String> {
            let names = try await store.text(
                sql: "SELECT string_agg(name, ',' ORDER BY name) AS value FROM pg_prepared_statements")
            return Set((names ?? "").split(separator: ",").map(String.init))
        }
        let before = try await prepared()
        let number = try #require(registration.business.corporateNumber)
        for _ in 0..<2 {
            #expect(try await store.registration(boundTo: registration.bindings[1].fingerprint) == registration)
            #expect(try await store.registration(ofUser: registration.users[1].id) == registration)
            #expect(try await store.registration(corporateNumber: number) == registration)
            #expect(try await store.registrations(RegistrationPage(limit: 10)) == [registration])
            #expect(try await store.registrations(RegistrationPage(limit: 10, after: registration.id)) == [])
            let filtered = RegistrationPage(limit: 10, nameContaining: String(registration.business.name.prefix(2)))
            #expect(try await store.registrations(filtered) == [registration])
        }
        #expect(
            try await prepared().subtracting(before) == [
                "registration_id_bound_to", "registration_id_of_user", "registration_id_of_corporate_number",
                "registration_ids_first_page", "registration_ids_page_after", "registration_read",
            ])
    }

    @Test("another server's migration makes this one's prepared statements stale: its reads and commits go on")
    func stalePreparedStatements() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema, maximumConnections: 2)
        var registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        let fingerprint = registration.bindings[1].fingerprint
        // Prepared on the store's connections: the look-up by certificate, the read, the commit's first statement.
        #expect(try await store.registration(boundTo: fingerprint) == registration)
        registration = try Sample.nextVersion(of: registration)
        try await store.commit(Sample.change(of: registration, at: Sample.at(1)))
        // Another server changes the identifiers' collation, as a migration would (version 5 did, to "C"): the
        // statements' result types change, and PostgreSQL refuses their cached plans (SQLSTATE 0A000).
        let other = try await PostgresTestDatabase.store(schema: schema)
        for statement in PostgresSchema.version5 {
            try await other.execute(sql: statement.replacingOccurrences(of: #"COLLATE "C""#, with: #"COLLATE "POSIX""#))
        }
        await other.close()
        #expect(try await store.registration(boundTo: fingerprint) == registration)
        registration = try Sample.nextVersion(of: registration, phone: "03-9999-0001")
        try await store.commit(Sample.change(of: registration, at: Sample.at(2)))
        #expect(try await store.registration(registration.id) == registration)
        #expect(try await store.registrations(RegistrationPage(limit: 10)) == [registration])
        await store.close()
    }

    // MARK: Several servers

    @Test("ten servers take one login challenge at once: exactly one gets it")
    func challengeRace() async throws {
        let schema = PostgresTestDatabase.newSchema()
        var stores: [PostgresRegistrationStore] = []
        for _ in 0..<10 { stores.append(try await PostgresTestDatabase.store(schema: schema, maximumConnections: 1)) }
        for round in 0..<5 {
            let challenge = try Sample.challenge(round, expiresAt: Sample.at(60))
            try await stores[0].insert(challenge)
            let taken = try await withThrowingTaskGroup(of: IssuedChallenge?.self) { group in
                for store in stores { group.addTask { try await store.takeChallenge(challenge.id) } }
                return try await group.reduce(into: [IssuedChallenge]()) { if let taken = $1 { $0.append(taken) } }
            }
            #expect(taken == [challenge], "round \(round)")
        }
    }

    @Test("four outbox workers, each a server of its own: every message delivered exactly once")
    func outboxWorkers() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let writer = try await PostgresTestDatabase.store(schema: schema)
        var expected: Set<OutboxMessageID> = []
        for index in 0..<15 {
            let commit = Sample.newRegistrationCommit(
                try Sample.simpleRegistration(name: "商事\(index)"), at: Sample.at(Double(index)))
            try await writer.commit(commit)
            expected.formUnion(commit.outbox.map(\.id))
        }
        var workers: [PostgresRegistrationStore] = []
        for _ in 0..<4 { workers.append(try await PostgresTestDatabase.store(schema: schema, maximumConnections: 2)) }
        let now = Sample.at(1_000)
        let deliveries = try await withThrowingTaskGroup(of: [OutboxMessageID].self) { group in
            for worker in workers {
                group.addTask {
                    var delivered: [OutboxMessageID] = []
                    var idleRounds = 0
                    while idleRounds < 3 {
                        let leased = try await worker.leaseDueMessages(at: now, limit: 2, leaseUntil: Sample.at(1_060))
                        if leased.isEmpty {
                            idleRounds += 1
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        idleRounds = 0
                        for message in leased {
                            delivered.append(message.id)
                            try await worker.record(.delivered(receipt: "R-\(message.id)"), for: message.id, at: now)
                        }
                    }
                    return delivered
                }
            }
            return try await group.reduce(into: [OutboxMessageID]()) { $0 += $1 }
        }
        #expect(deliveries.count == expected.count, "a message was delivered twice, or lost")
        #expect(Set(deliveries) == expected)
        let stored = try await writer.outbox(state: .delivered)
        #expect(stored.count == expected.count && stored.allSatisfy { $0.attempts == 1 })
    }

    // MARK: Two processes

    /// Runs `store-benchmark` (built beside the tests) with `arguments`; its standard output, trimmed.
    static func probe(_ arguments: [String]) async throws -> String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        let executable = folder.appendingPathComponent("store-benchmark")
        try #require(
            FileManager.default.isExecutableFile(atPath: executable.path),
            "\(executable.path) is missing: build it (swift build --build-tests)")
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Waited for without blocking a thread of the test pool; its few bytes of output wait in the pipe.
        let status = await process.exitStatus()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        #expect(status == 0, "store-benchmark \(arguments.first ?? "")")
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func url(schema: String) -> String {
        let base = PostgresTestDatabase.url
        return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
    }

    @Test("two processes take one login challenge at the same moment: exactly one gets it")
    func challengeRaceTwoProcesses() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        for round in 0..<3 {
            let challenge = try Sample.challenge(0x2000 + round, expiresAt: Sample.at(60))
            let id = challenge.id
            try await store.insert(challenge)
            // Both connect first, then act at one instant, a second and a half from now.
            let at = String(Date().timeIntervalSince1970 + 1.5)
            let arguments = ["take-challenge", "--db", Self.url(schema: schema), "--id", id, "--at", at]
            async let first = Self.probe(arguments)
            async let second = Self.probe(arguments)
            let outcomes = try await [first, second].sorted()
            #expect(outcomes == ["none", "taken"], "round \(round)")
        }
    }

    @Test("two processes register one 法人番号 at the same moment: exactly one is stored")
    func corporateNumberRaceTwoProcesses() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        let number = "4011001098993"
        let at = String(Date().timeIntervalSince1970 + 1.5)
        async let first = Self.probe([
            "register", "--db", Self.url(schema: schema), "--corporate-number", number, "--name", "一の商事", "--at", at,
        ])
        async let second = Self.probe([
            "register", "--db", Self.url(schema: schema), "--corporate-number", number, "--name", "二の商事", "--at", at,
        ])
        let outcomes = try await [first, second].sorted()
        #expect(outcomes.first?.hasPrefix("refused: ") == true, "\(outcomes)")
        #expect(outcomes.first?.contains(number) == true, "\(outcomes)")
        #expect(outcomes.last == "stored", "\(outcomes)")
        let registrations = try await store.registrations()
        #expect(registrations.count == 1)
        // The loser's hand-over and mail were not written either.
        #expect(try await store.outbox(state: nil).count == 2)
    }
}
