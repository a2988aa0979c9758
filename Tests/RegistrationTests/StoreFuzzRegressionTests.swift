import Foundation
import Testing

@testable import Registration

/// Inputs FuzzSQLiteStore (Fuzz/) found that trapped the SQLite store, each replayed against a file the store wrote.
struct StoreFuzzRegressionTests {
    typealias Sample = StoreTestData

    /// Writes a registration (with its outbox messages) to a new file, then lets `damage` change the file's bytes.
    private static func storedFile(damage: (inout [UInt8]) throws -> Void) async throws -> String {
        let path = try StoreTests.temporaryPath()
        do {
            let store = try SQLiteRegistrationStore(path: path)
            try await store.commit(Sample.newRegistrationCommit(try Sample.simpleRegistration()))
        }
        // The store is released: its WAL is checkpointed into the file and removed.
        var bytes = [UInt8](try Data(contentsOf: URL(filePath: path)))
        try damage(&bytes)
        try Data(bytes).write(to: URL(filePath: path))
        return path
    }

    @Test("a schema whose outbox lost its id column (one byte of the CREATE TABLE changed) is a store failure")
    func outboxWithoutIDColumn() async throws {
        // The fuzzer's input changed one byte of the outbox table's CREATE statement in sqlite_schema:
        // ",\n    id TEXT" became ",\n \u{B9}  id TEXT", so SQLite reads a column named B9 of type "id TEXT", and
        // the outbox rows have no `id`. GRDB's row["id"] then trapped ('try!': column not found).
        let path = try await Self.storedFile { bytes in
            let statement = Array("CREATE TABLE outbox (\n    number INTEGER PRIMARY KEY,\n    id TEXT".utf8)
            let start = try #require(
                bytes.indices.first { bytes[$0...].starts(with: statement) }, "the outbox's CREATE TABLE")
            let column = start + statement.count - "   id TEXT".utf8.count
            bytes[column] = 0xB9
        }
        let store = try SQLiteRegistrationStore(path: path)
        let error = await #expect(throws: RegistrationError.self) { try await store.outbox(state: nil) }
        #expect(error == .storeUnreadable(table: "outbox", column: "id", reason: "the table has no such column"))
    }
}
