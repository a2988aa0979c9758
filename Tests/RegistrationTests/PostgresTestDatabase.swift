import Foundation
import Registration
import RegistrationPostgres

/// The PostgreSQL server of the test bench, and a schema of its own for each test.
///
/// The server is the one in `PI_TEST_POSTGRES_URL`, by default the one `Scripts/setup-test-bench` starts
/// (``defaultURL``). A test whose server cannot be reached fails with the store's sentence: nothing is skipped.
/// Each store made here lives in a new schema (`t_<seconds>_<random>`), so tests run in parallel without sharing
/// rows; schemas of earlier runs older than an hour are dropped once per test process.
enum PostgresTestDatabase {
    /// The test bench's server, role and database.
    static let defaultURL = "postgres://pi_test:pi_test@127.0.0.1:5432/pi_test"

    /// The URL the tests use.
    static var url: String { ProcessInfo.processInfo.environment["PI_TEST_POSTGRES_URL"] ?? defaultURL }

    /// A new schema name, unique to this call.
    static func newSchema() -> String {
        let seconds = Int(Date().timeIntervalSince1970)
        return "t_\(seconds)_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    /// The configuration of a store in `schema` (a new one when nil).
    static func configuration(schema: String? = nil, maximumConnections: Int = 4) throws
        -> PostgresStoreConfiguration
    {
        var configuration = try PostgresStoreConfiguration(url: url, environment: [:])
        configuration.schema = schema ?? newSchema()
        configuration.maximumConnections = maximumConnections
        configuration.applicationName = "pi-test-\(configuration.schema ?? "")"
        return configuration
    }

    /// A store in a new schema (or in `schema`, shared with other stores of the test).
    static func store(schema: String? = nil, maximumConnections: Int = 4) async throws -> PostgresRegistrationStore {
        await cleanUp.value
        return try await PostgresRegistrationStore(
            try configuration(schema: schema, maximumConnections: maximumConnections))
    }

    /// Drops the schemas that tests of earlier runs left, once per process (failures are left for the tests to say).
    private static let cleanUp = Task<Void, Never> {
        guard var configuration = try? PostgresStoreConfiguration(url: url, environment: [:]) else { return }
        configuration.schema = "t_cleanup_\(UUID().uuidString.prefix(8).lowercased())"
        guard let store = try? await PostgresRegistrationStore(configuration) else { return }
        let cutoff = Int(Date().timeIntervalSince1970) - 3_600
        // A few schemas per transaction: dropping hundreds in one runs out of the server's lock table ("out of
        // shared memory") and fails the tests running beside it.
        for _ in 0..<60 {
            try? await store.execute(
                sql: """
                    DO $$ DECLARE name text; BEGIN
                        FOR name IN SELECT nspname FROM pg_namespace WHERE CASE
                                WHEN nspname ~ '^t_cleanup_' THEN true
                                WHEN nspname ~ '^t_[0-9]+_' THEN split_part(nspname, '_', 2)::bigint < \(cutoff)
                                ELSE false END
                            LIMIT 16 LOOP
                            EXECUTE format('DROP SCHEMA %I CASCADE', name);
                        END LOOP;
                    END $$
                    """)
        }
        await store.close()
    }
}
