import Foundation
import Testing

@testable import Registration
@testable import RegistrationPostgres

/// A commit writes the rows that changed, not the whole registration: counted by triggers on SQLite, seen in the
/// rows' `xmin` (the transaction that last wrote a row) on PostgreSQL.
@Suite("Commits write only the rows that changed")
struct StoreWriteTests {
    typealias Sample = StoreTestData

    /// The full registration, then a change of the business's telephone only, then a change of one user's mail, one
    /// binding added and one removed.
    static func changes() throws -> (
        first: BusinessRegistration, phoneOnly: BusinessRegistration, some: BusinessRegistration
    ) {
        let first = try Sample.fullRegistration()
        let phoneOnly = try Sample.nextVersion(of: first)
        var some = try Sample.nextVersion(of: phoneOnly, phone: "03-1111-2222")
        some.users[1].information.mail = try MailAddress("hanako.new@example.co.jp")
        some.bindings.remove(at: 2)
        some.bindings.append(try Sample.binding(for: some.users[0].id, "調達 太郎 (追加)", at: Sample.at(700)))
        return (first, phoneOnly, some)
    }

    @Test("SQLite: a change of the business writes no child row; a change of three rows writes those three")
    func sqlite() async throws {
        let store = try SQLiteRegistrationStore(path: try StoreTests.temporaryPath())
        var triggers = "CREATE TABLE row_write (tbl TEXT NOT NULL, op TEXT NOT NULL);"
        for table in ["qualification", "user", "binding", "power_of_attorney"] {
            for operation in ["INSERT", "UPDATE", "DELETE"] {
                triggers += """
                    CREATE TRIGGER count_\(table)_\(operation) AFTER \(operation) ON "\(table)"
                    BEGIN INSERT INTO row_write VALUES ('\(table)', '\(operation)'); END;
                    """
            }
        }
        try await store.execute(sql: triggers)
        func written() async throws -> String {
            let writes =
                try await store.text(sql: "SELECT group_concat(tbl || ' ' || op, ', ') FROM row_write") ?? ""
            try await store.execute(sql: "DELETE FROM row_write")
            return writes
        }
        let (first, phoneOnly, some) = try Self.changes()
        try await store.commit(Sample.newRegistrationCommit(first))
        // A new registration: every row inserted once (3 qualifications, 2 users, 5 bindings, 1 power of attorney).
        var inserted: [String] = Array(repeating: "qualification INSERT", count: 3)
        inserted += Array(repeating: "user INSERT", count: 2)
        inserted += Array(repeating: "binding INSERT", count: 5)
        inserted.append("power_of_attorney INSERT")
        let firstWrites = try await written()
        #expect(firstWrites == inserted.joined(separator: ", "))
        try await store.commit(Sample.change(of: phoneOnly, at: Sample.at(600)))
        #expect(try await written() == "")
        try await store.commit(Sample.change(of: some, at: Sample.at(700)))
        // The removed binding, the moves of the bindings after it (to a free position, then to their own), the user.
        let writes = try await written().components(separatedBy: ", ")
        #expect(writes.filter { $0 == "binding DELETE" }.count == 1)
        #expect(writes.filter { $0 == "binding INSERT" }.count == 1)
        // The two bindings after the removed one: moved to a free position, then to their own (one less).
        #expect(writes.filter { $0 == "binding UPDATE" }.count == 4)
        #expect(writes.filter { $0 == "user UPDATE" }.count == 1)
        #expect(!writes.contains { $0.hasPrefix("qualification") || $0.hasPrefix("power_of_attorney") })
        #expect(!writes.contains { $0 == "user INSERT" || $0 == "user DELETE" })
        #expect(try await store.registration(first.id) == some)
    }

    @Test("PostgreSQL: rows a commit did not change keep the xmin of the transaction that wrote them")
    func postgres() async throws {
        let store = try await PostgresTestDatabase.store()
        /// Every child row's key with the transaction that last wrote it.
        func versions() async throws -> [String: String] {
            var versions: [String: String] = [:]
            for (table, key) in [
                ("qualification", "position::text"), ("user", "id"), ("binding", "id"), ("power_of_attorney", "id"),
            ] {
                let text =
                    try await store.text(
                        sql: "SELECT string_agg(\(key) || '=' || xmin::text, ',') AS value FROM \"\(table)\"") ?? ""
                for pair in text.split(separator: ",") {
                    let parts = pair.split(separator: "=")
                    versions["\(table) \(parts[0])"] = String(parts[1])
                }
            }
            return versions
        }
        let (first, phoneOnly, some) = try Self.changes()
        try await store.commit(Sample.newRegistrationCommit(first))
        let afterFirst = try await versions()
        #expect(afterFirst.count == 11)  // 3 qualifications, 2 users, 5 bindings, 1 power of attorney

        try await store.commit(Sample.change(of: phoneOnly, at: Sample.at(600)))
        #expect(try await versions() == afterFirst)

        try await store.commit(Sample.change(of: some, at: Sample.at(700)))
        let afterSome = try await versions()
        let changed = Set(afterSome.keys.filter { afterSome[$0] != afterFirst[$0] })
        let removed = Set(afterFirst.keys).subtracting(afterSome.keys)
        // The user whose mail changed, the new binding, and the bindings after the removed one (their position).
        let moved = some.bindings[2..<4].map { "binding \($0.id)" }
        let expected: Set<String> = Set(["user \(some.users[1].id)", "binding \(some.bindings[4].id)"] + moved)
        #expect(changed == expected)
        #expect(removed == ["binding \(first.bindings[2].id)"])
        #expect(try await store.registration(first.id) == some)
        await store.close()
    }
}
