import Foundation
import Testing

@testable import Registration
@testable import RegistrationPostgres

/// The lists an operator reads at a prefecture's scale use indexes, on both SQL stores; the schema versions that
/// brought the indexes migrate older databases.
@Suite("Store indexes: pages, 法人番号 and expiring certificates read through indexes; migrations to them")
struct StoreIndexTests {
    typealias Sample = StoreTestData

    /// How many businesses the plans are asked at: enough for both planners to prefer an index to reading the table
    /// (each business has a representative and two certificate bindings, as the benchmark's have three users).
    static let businesses = 5_000

    /// `count` registrations made from one template (one certificate, decoded once), each with identifiers, a
    /// 法人番号 and fingerprints of its own; business i's active card ends i hours after the epoch, its older one
    /// is superseded.
    static func many(_ count: Int) throws -> [BusinessRegistration] {
        var template = try Sample.simpleRegistration()
        template.bindings.append(template.bindings[0])
        template.bindings[1].recordedStatus = .superseded
        return try (0..<count).map { index in
            var registration = template
            registration.id = BusinessID.random()
            registration.business = try Sample.businessInformation("索引の商事\(index)")
            registration.registeredAt = Sample.at(Double(index))
            registration.users[0].id = UserID.random()
            for position in registration.bindings.indices {
                registration.bindings[position].id = BindingID.random()
                registration.bindings[position].userID = registration.users[0].id
                registration.bindings[position].fingerprint = String(format: "%060d%04d", index, position)
                registration.bindings[position].notValidAfter = Sample.at(Double(index) * 3_600)
            }
            return registration
        }
    }

    /// The pages whose plans are checked: a page in order of registration (after a business), by 法人番号, and by
    /// certificates expiring within 3 days (72 of the 5,000 businesses: a renewal list is a small part of them).
    static func pages(_ registrations: [BusinessRegistration]) -> [(label: String, page: RegistrationPage)] {
        let middle = registrations[registrations.count / 2]
        return [
            ("page", RegistrationPage(limit: 100, after: middle.id)),
            ("法人番号", RegistrationPage(limit: 100, corporateNumber: middle.business.corporateNumber)),
            (
                "expiring",
                RegistrationPage(
                    limit: 100, certificateExpiry: RegistrationPage.expiry(withinDays: 3, from: Sample.at(86_400)))
            ),
        ]
    }

    @Test("SQLite: EXPLAIN QUERY PLAN of each filter searches an index, never scans the business table")
    func sqlitePlans() async throws {
        let store = try SQLiteRegistrationStore(path: try StoreTests.temporaryPath())
        let registrations = try Self.many(Self.businesses)
        try await store.seed(registrations)
        try await store.execute(sql: "ANALYZE")
        for (label, page) in Self.pages(registrations) {
            let plan = try await store.plan(of: page)
            // A bare "SCAN business" reads the whole table; "SCAN business USING INDEX business_by_registration"
            // reads the index in order and stops at the page's limit.
            #expect(!plan.contains { $0 == "SCAN business" }, "\(label): \(plan)")
            #expect(!plan.contains { $0.contains("USE TEMP B-TREE FOR ORDER BY") } || label != "page", "\(plan)")
            switch label {
            case "page": #expect(plan.contains { $0.contains("business_by_registration") }, "\(plan)")
            case "法人番号": #expect(plan.contains { $0.contains("business_corporate_number") }, "\(plan)")
            default: #expect(plan.contains { $0.contains("binding_active_expiry") }, "\(plan)")
            }
            let expected = registrations.filter(page.matches)
            let read = try await store.registrations(page)
            if label == "page" {
                #expect(read.count == 100)
            } else {
                #expect(read == Array(expected.prefix(100)), "\(label)")
            }
        }
    }

    @Test("PostgreSQL: EXPLAIN (FORMAT JSON) of each filter uses an index, no sequential scan of business")
    func postgresPlans() async throws {
        let store = try await PostgresTestDatabase.store()
        let registrations = try Self.many(Self.businesses)
        try await store.seed(registrations)
        try await store.execute(sql: "ANALYZE business", "ANALYZE binding")
        // At 5,000 businesses the planner chooses the indexes by itself for the page and the 法人番号. For the expiry
        // it finds the 72 businesses' rows through binding_active_expiry by itself too, but then (measured on the
        // test bench) joins them by hashing against a sequential scan of business, which costs less than 72 index
        // look-ups in a table this small: so that filter is asked with enable_seqscan off, to check that an index
        // plan exists and is the one taken when reading business is dear, as it is at 100,000 businesses.
        for (label, page) in Self.pages(registrations) {
            let plan = try await store.plan(
                of: page, settings: label == "expiring" ? ["SET LOCAL enable_seqscan = off"] : [])
            let nodes = try Self.nodes(ofPlan: plan)
            #expect(
                !nodes.contains {
                    $0["Node Type"] as? String == "Seq Scan" && $0["Relation Name"] as? String == "business"
                },
                "\(label): \(plan)")
            let indexes = Set(nodes.compactMap { $0["Index Name"] as? String })
            switch label {
            case "page": #expect(indexes.contains("business_by_registration"), "\(plan)")
            case "法人番号": #expect(indexes.contains("business_corporate_number"), "\(plan)")
            default: #expect(indexes.contains("binding_active_expiry"), "\(plan)")
            }
            let read = try await store.registrations(page)
            if label == "page" {
                #expect(read.count == 100)
            } else {
                #expect(read == Array(registrations.filter(page.matches).prefix(100)), "\(label)")
            }
        }
        await store.close()
    }

    /// An expiry range that many businesses fall in is asked business by business, in order of registration, from
    /// binding_active_business_expiry; the page is the same as the one the other form reads.
    @Test("SQLite: a wide expiry range is asked business by business through binding_active_business_expiry")
    func sqliteProbingPlan() async throws {
        let store = try SQLiteRegistrationStore(path: try StoreTests.temporaryPath())
        let registrations = try Self.many(Self.businesses)
        try await store.seed(registrations)
        try await store.execute(sql: "ANALYZE")
        // 100 days: 2,400 of the 5,000 businesses, above √(100 × 5,000) ≈ 707 active bindings in the range.
        let cases: [(days: Int, after: BusinessID?)] = [(100, nil), (100, registrations[1_000].id), (3, nil)]
        for (days, after) in cases {
            let page = RegistrationPage(
                limit: 100, after: after,
                certificateExpiry: RegistrationPage.expiry(withinDays: days, from: Sample.at(86_400)))
            let plan = try await store.plan(of: page)
            #expect(!plan.contains { $0 == "SCAN business" }, "\(plan)")
            if days == 100 {
                #expect(plan.contains { $0.contains("binding_active_business_expiry") }, "\(plan)")
                #expect(plan.contains { $0.contains("business_by_registration") }, "\(plan)")
                #expect(!plan.contains { $0.contains("USE TEMP B-TREE FOR ORDER BY") }, "\(plan)")
            } else {
                #expect(plan.contains { $0.contains("binding_active_expiry") }, "\(plan)")
            }
            var expected = registrations
            if after != nil { expected.removeFirst(1_001) }
            let read = try await store.registrations(page)
            #expect(
                read == Array(expected.filter(page.matches).prefix(100)),
                "\(days) days after \(String(describing: after))")
            #expect(!read.isEmpty)
        }
    }

    @Test("SQLite: a database of version 4 migrates to version 5 (the index of the expiry probe), its rows kept")
    func sqliteFromVersion4() async throws {
        let path = try StoreTests.temporaryPath()
        let store = try SQLiteRegistrationStore(path: path)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        // Back to version 4, as the previous release wrote it.
        try await store.execute(sql: "DROP INDEX binding_active_business_expiry")
        try await store.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5'")
        try await store.execute(sql: "PRAGMA user_version = 4")

        let migrated = try SQLiteRegistrationStore(path: path)
        #expect(try await migrated.text(sql: "PRAGMA user_version") == "5")
        let index = try await migrated.text(
            sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'binding_active_business_expiry'")
        #expect(index?.contains("ON binding(business_id, not_valid_after)") == true, "\(String(describing: index))")
        #expect(index?.contains("WHERE status = 'active'") == true, "\(String(describing: index))")
        #expect(try await migrated.registration(registration.id) == registration)
        #expect(
            try await migrated.text(sql: "SELECT group_concat(identifier) FROM grdb_migrations") == "v1,v2,v3,v4,v5")
    }

    @Test("PostgreSQL: a schema of version 3 migrates to version 5 (the expiry probe's index, byte-wise identifiers)")
    func postgresFromVersion3() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        // Back to version 3, as the release before last wrote it: no index of the probe, every identifier compared
        // by the database's collation.
        let defaultCollation = PostgresSchema.version5.map { $0.replacingOccurrences(of: #"COLLATE "C""#, with: "") }
        try await store.execute(sql: "DROP INDEX binding_active_business_expiry")
        for statement in defaultCollation { try await store.execute(sql: statement) }
        try await store.execute(sql: "DELETE FROM registration_schema WHERE version >= 4")
        let byteCollated = """
            SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) AS value
            FROM information_schema.columns WHERE table_schema = '\(schema)' AND collation_name = 'C'
            """
        #expect(try await store.text(sql: byteCollated) == nil)
        await store.close()

        let migrated = try await PostgresTestDatabase.store(schema: schema)
        #expect(
            try await migrated.text(
                sql: "SELECT string_agg(version::text, ',' ORDER BY version) AS value FROM registration_schema")
                == "1,2,3,4,5")
        #expect(
            try await migrated.text(
                sql: """
                    SELECT indexdef AS value FROM pg_indexes
                    WHERE schemaname = '\(schema)' AND indexname = 'binding_active_business_expiry'
                    """)?.contains("(business_id, not_valid_after) WHERE (status = 'active'::text)") == true)
        #expect(
            try await migrated.text(sql: byteCollated)
                == [
                    "binding.business_id", "binding.fingerprint", "binding.id", "binding.superseded_by",
                    "binding.user_id", "business.corporate_number", "business.id", "card_challenge.id",
                    "change_record.actor", "change_record.business_id", "change_record.id", "flow_state.id",
                    "outbox.after_id", "outbox.business_id", "outbox.change_id", "outbox.id", "outbox.idempotency_key",
                    "power_of_attorney.agent_id", "power_of_attorney.business_id", "power_of_attorney.id",
                    "qualification.business_id", "user.business_id", "user.id",
                ].joined(separator: ","))
        #expect(try await migrated.registration(registration.id) == registration)
        // The keys still hold: the certificate is found by its fingerprint, the business by its 法人番号.
        let binding = try #require(registration.bindings.first)
        #expect(try await migrated.registration(boundTo: binding.fingerprint)?.id == registration.id)
        if let number = registration.business.corporateNumber {
            #expect(try await migrated.registration(corporateNumber: number)?.id == registration.id)
        }
        await migrated.close()
    }

    @Test("PostgreSQL: a migration that a view of the operators' own blocks names the view, and changes nothing")
    func postgresMigrationBlockedByView() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        // Back to version 4 (identifiers compared by the database's collation), and a view of an operator's that reads
        // a column version 5 changes: PostgreSQL refuses to change a column's type under a view. The view reads the
        // outbox, the migration's last table but two: the statements before it must be undone too.
        let defaultCollation = PostgresSchema.version5.map { $0.replacingOccurrences(of: #"COLLATE "C""#, with: "") }
        for statement in defaultCollation { try await store.execute(sql: statement) }
        try await store.execute(sql: "DELETE FROM registration_schema WHERE version >= 5")
        try await store.execute(sql: "CREATE VIEW pending_for_audit AS SELECT id, state FROM outbox")
        await store.close()

        let error = await #expect(throws: RegistrationError.self) {
            try await PostgresTestDatabase.store(schema: schema)
        }
        let sentence = try #require(StoreTests.failureSentence(error), "\(String(describing: error))")
        #expect(sentence.contains("to schema version 5 was refused (SQLSTATE 0A000"), "\(sentence)")
        #expect(sentence.contains("view pending_for_audit"), "\(sentence)")
        #expect(sentence.contains("nothing was changed"), "\(sentence)")
        #expect(sentence.contains("drop it, open the store again"), "\(sentence)")

        // Nothing changed: still version 4, no identifier compared byte by byte (the tables before the outbox were
        // changed back); once the view is gone, the store opens and migrates.
        let other = try await PostgresTestDatabase.store()
        #expect(
            try await other.text(sql: "SELECT max(version)::text AS value FROM \"\(schema)\".registration_schema")
                == "4")
        #expect(
            try await other.text(
                sql: """
                    SELECT count(*)::text AS value FROM information_schema.columns
                    WHERE table_schema = '\(schema)' AND collation_name = 'C'
                    """) == "0")
        try await other.execute(sql: "DROP VIEW \"\(schema)\".pending_for_audit")
        await other.close()
        let migrated = try await PostgresTestDatabase.store(schema: schema)
        #expect(
            try await migrated.text(
                sql: "SELECT string_agg(version::text, ',' ORDER BY version) AS value FROM registration_schema")
                == "1,2,3,4,5")
        #expect(try await migrated.registration(registration.id) == registration)
        await migrated.close()
    }

    /// Every node of a plan in `EXPLAIN (FORMAT JSON)`.
    static func nodes(ofPlan json: String) throws -> [[String: Any]] {
        let top = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        var nodes: [[String: Any]] = []
        var pending = top.compactMap { $0["Plan"] as? [String: Any] }
        while let node = pending.popLast() {
            nodes.append(node)
            pending += node["Plans"] as? [[String: Any]] ?? []
        }
        return nodes
    }

    @Test("SQLite: a database of version 2 migrates to version 5 (indexes, card challenges, flow state), its rows kept")
    func sqliteFromVersion2() async throws {
        let path = try StoreTests.temporaryPath()
        let store = try SQLiteRegistrationStore(path: path)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        // Back to version 2, as the previous release wrote it.
        try await store.execute(sql: "DROP INDEX business_by_registration")
        try await store.execute(sql: "DROP INDEX binding_active_expiry")
        try await store.execute(sql: "DROP INDEX binding_active_business_expiry")
        try await store.execute(sql: "DROP TABLE card_challenge")
        try await store.execute(sql: "DROP TABLE flow_state")
        try await store.execute(
            sql: """
                CREATE TABLE login_challenge (id TEXT PRIMARY KEY NOT NULL, nonce BLOB NOT NULL, issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL)
                """)
        try await store.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v3', 'v4', 'v5')")
        try await store.execute(sql: "PRAGMA user_version = 2")

        let migrated = try SQLiteRegistrationStore(path: path)
        #expect(try await migrated.text(sql: "PRAGMA user_version") == "5")
        #expect(
            try await migrated.text(
                sql: """
                    SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'table'
                    AND name IN ('login_challenge', 'card_challenge', 'flow_state') ORDER BY name)
                    """) == "card_challenge,flow_state")
        #expect(
            try await migrated.text(
                sql: """
                    SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index'
                    AND name IN ('business_by_registration', 'binding_active_expiry', 'binding_active_business_expiry')
                    ORDER BY name)
                    """) == "binding_active_business_expiry,binding_active_expiry,business_by_registration")
        #expect(try await migrated.registration(registration.id) == registration)
        // A version above 5 is still refused.
        try await migrated.execute(sql: "PRAGMA user_version = 6")
        let error = #expect(throws: RegistrationError.self) { try SQLiteRegistrationStore(path: path) }
        #expect(StoreTests.failureSentence(error)?.contains("newer version") == true, "\(String(describing: error))")
    }

    @Test(
        "PostgreSQL: a schema of version 1 migrates to version 5 (indexes, card challenges, flow state); 6 is refused")
    func postgresFromVersion1() async throws {
        let schema = PostgresTestDatabase.newSchema()
        let store = try await PostgresTestDatabase.store(schema: schema)
        let registration = try Sample.fullRegistration()
        try await store.commit(Sample.newRegistrationCommit(registration))
        try await store.execute(
            sql: "DROP INDEX business_by_registration", "DROP INDEX binding_active_expiry",
            "DROP INDEX binding_active_business_expiry", "DROP TABLE card_challenge",
            "DROP TABLE flow_state",
            """
            CREATE TABLE login_challenge (id text NOT NULL, nonce bytea NOT NULL, issued_at double precision NOT NULL,
                expires_at double precision NOT NULL, CONSTRAINT login_challenge_pkey PRIMARY KEY (id))
            """,
            "DELETE FROM registration_schema WHERE version >= 2")
        await store.close()

        let migrated = try await PostgresTestDatabase.store(schema: schema)
        #expect(
            try await migrated.text(
                sql: "SELECT string_agg(version::text, ',' ORDER BY version) AS value FROM registration_schema")
                == "1,2,3,4,5")
        #expect(
            try await migrated.text(
                sql: """
                    SELECT string_agg(table_name::text, ',' ORDER BY table_name) AS value FROM information_schema.tables
                    WHERE table_schema = '\(schema)'
                        AND table_name IN ('login_challenge', 'card_challenge', 'flow_state')
                    """) == "card_challenge,flow_state")
        #expect(
            try await migrated.text(
                sql: """
                    SELECT string_agg(indexname::text, ',' ORDER BY indexname) AS value FROM pg_indexes
                    WHERE schemaname = '\(schema)' AND indexname IN ('business_by_registration', 'binding_active_expiry',
                        'binding_active_business_expiry')
                    """) == "binding_active_business_expiry,binding_active_expiry,business_by_registration")
        #expect(try await migrated.registration(registration.id) == registration)
        try await migrated.execute(sql: "INSERT INTO registration_schema (version) VALUES (6)")
        await migrated.close()
        let error = await #expect(throws: RegistrationError.self) {
            _ = try await PostgresTestDatabase.store(schema: schema)
        }
        #expect(StoreTests.failureSentence(error)?.contains("newer version") == true, "\(String(describing: error))")
    }
}
