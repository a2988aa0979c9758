import Foundation
import Testing

/// `store-benchmark` at a small size: it runs to the end and prints its table with every row (the figures of a
/// debug build at this size say nothing: only the table's shape is checked).
@Suite("store-benchmark: a smoke run at a small size")
struct StoreBenchmarkTests {
    @Test("120 businesses, 1 and 2 writers against pgbench: the table has every row, the yardstick and the ratio")
    func smokeRun() async throws {
        let output = try await PostgresStoreTests.probe([
            "--businesses", "120", "--small", "60", "--commits", "5", "--seconds", "0.2", "--writers", "1,2",
            "--postgres", PostgresTestDatabase.url,
        ])
        let rows = output.split(separator: "\n").map { line in
            line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        try #require(rows.count >= 2, "\(output)")
        #expect(rows[0] == ["store", "measure", "value", "yardstick", "ratio"])
        let measures = rows.dropFirst(2).map { "\($0[0]): \($0[1])" }
        for store in ["SQLite", "PostgreSQL"] {
            for measure in [
                "commit at 60 businesses", "seeding 120 businesses (fast path)", "commit at 120 businesses",
                "page of 100 of 120", "page by 法人番号 of 120", "page expiring ≤ 30 days of 120",
            ] {
                #expect(measures.contains("\(store): \(measure)"), "\(store): \(measure) in \(output)")
            }
        }
        for writers in ["1 writer", "2 writers"] {
            let row = try #require(rows.first { $0.count > 4 && $0[1] == "commits/s, \(writers)" }, "\(output)")
            #expect(Double(row[2]) ?? 0 > 0)
            #expect(row[3].hasPrefix("pgbench simple-update"))
            #expect(row[4].hasSuffix("(goal ≥ 0.5×)"))
        }
        #expect(rows.contains { $0.count > 3 && $0[1] == "resident memory" && $0[2].contains("VmHWM") })
        // The password of the URL is never printed.
        #expect(!output.contains("pi_test:pi_test"))
    }
}
