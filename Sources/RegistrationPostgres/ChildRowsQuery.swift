import PostgresNIO
import Registration

/// The rows of a registration in its four child tables, read in one statement (one round trip, not four): each
/// table's `SELECT` is a branch of a `UNION ALL` whose rows have one shape, a tag (the table's index in
/// `RegistrationRows.tables`) and typed slots, each column of a table in a slot of its type and the other slots NULL.
///
/// A commit runs it together with the business row's versioned `UPDATE` (``updatingSQL(update:)``): the rows then
/// come with a first row (tag -1) that holds how many business rows the `UPDATE` changed and the version the
/// statement's snapshot saw.
enum ChildRowsQuery {
    /// The SQL types of the slots, by the type of the columns they hold.
    private static let slotTypes: [(type: ColumnType, sql: String)] = [
        (.text, "text"), (.integer, "bigint"), (.real, "double precision"), (.bytes, "bytea"), (.boolean, "boolean"),
    ]

    /// For each table, the result column of each of its columns (the tag is column 0).
    static let slots: [[Int]] = layout.slots

    /// The SQL type of each result column after the tag.
    private static let columnTypes: [String] = layout.types

    private static var layout: (slots: [[Int]], types: [String]) {
        var counts: [String: Int] = [:]
        for table in RegistrationRows.tables {
            for (type, sql) in slotTypes {
                counts[sql] = max(counts[sql] ?? 0, table.columns.filter { $0.type == type }.count)
            }
        }
        // The header row holds two integers.
        counts["bigint"] = max(counts["bigint"] ?? 0, 2)
        var types: [String] = []
        var first: [String: Int] = [:]
        for (_, sql) in slotTypes {
            first[sql] = types.count + 1
            types += Array(repeating: sql, count: counts[sql] ?? 0)
        }
        let slots = RegistrationRows.tables.map { table in
            var used: [String: Int] = [:]
            return table.columns.map { column in
                let sql = slotTypes.first { $0.type == column.type }?.sql ?? "text"
                defer { used[sql, default: 0] += 1 }
                return (first[sql] ?? 1) + (used[sql] ?? 0)
            }
        }
        return (slots, types)
    }

    /// The result column of the header's count of updated rows, and of its version.
    static var updatedColumn: Int { (columnTypes.firstIndex(of: "bigint") ?? 0) + 1 }
    static var versionColumn: Int { updatedColumn + 1 }

    /// The `UNION ALL` of the four tables' rows of the business `$1`.
    static let selectSQL: String = RegistrationRows.tables.enumerated().map { tag, table in
        var values = columnTypes.map { "NULL::\($0)" }
        for (index, column) in table.columns.enumerated() {
            let slot = slots[tag][index]
            values[slot - 1] = column.type == .integer ? "\(column.name)::bigint" : column.name
        }
        return "SELECT \(tag)::integer, \(values.joined(separator: ", ")) FROM \(table.name) WHERE business_id = $1"
    }.joined(separator: "\nUNION ALL\n")

    /// `update` (the business row's `UPDATE … WHERE id = $1 AND version = … RETURNING 1`), then a header row of what
    /// it changed and of the version the statement's snapshot saw, then the child rows of that snapshot.
    static func updatingSQL(update: String) -> String {
        var values = columnTypes.map { "NULL::\($0)" }
        values[updatedColumn - 1] = "(SELECT count(*) FROM updated)"
        values[versionColumn - 1] = "(SELECT version FROM business WHERE id = $1)::bigint"
        return "WITH updated AS (\(update))\nSELECT -1::integer, \(values.joined(separator: ", "))\nUNION ALL\n"
            + selectSQL
    }

    /// A commit's first statement, as a prepared statement: the business row's versioned `UPDATE` (`$1` the
    /// identifier, `$2` the expected version, `$3`… the new version and the business's fields), then what
    /// ``updatingSQL(update:)`` returns with it.
    ///
    /// Prepared once per connection (postgres-nio keeps the names it prepared on each connection), it is parsed and
    /// planned once instead of on every commit: at 8 writers, parsing and planning this statement and the others
    /// of a commit took about half of the server's CPU. The statement reads tables by unqualified names, resolved
    /// in the connection's `search_path` (the store's schema) when it is prepared.
    struct VersionedUpdate: PostgresPreparedStatement {
        typealias Row = PostgresRow

        static let name = "registration_commit_versioned_update"

        static let sql = ChildRowsQuery.updatingSQL(
            update: """
                UPDATE business SET version = $3, registered_at = $4, name = $5, postal_code = $6,
                    address = $7, representative_title = $8, representative_name = $9,
                    corporate_number = $10, phone = $11
                WHERE id = $1 AND version = $2
                RETURNING 1
                """)

        /// The types of `$1`…`$11`, given so that a first commit with a NULL (no 法人番号) prepares the same
        /// statement as any other.
        static let bindingDataTypes: [PostgresDataType] = [
            .text, .int8, .int8, .float8, .text, .text, .text, .text, .text, .text, .text,
        ]

        let bindings: PostgresBindings

        func makeBindings() throws -> PostgresBindings { bindings }

        func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
    }

    /// The tag of a result row: the table's index, or -1 for the header.
    static func tag(of record: StoredRecord) throws(RegistrationError) -> Int {
        guard case .integer(let tag) = try record.columnValue(at: 0, column: "tag", .integer) else {
            throw .storeUnreadable(table: record.table, column: "tag", reason: "it is NULL")
        }
        return tag
    }

    /// The header of an ``updatingSQL(update:)`` result: how many business rows were changed, and the version
    /// (nil when the statement's snapshot saw no such business).
    static func header(_ records: [StoredRecord]) throws(RegistrationError) -> (updated: Int, version: Int?) {
        for record in records {
            guard try tag(of: record) == -1 else { continue }
            let updated = try record.columnValue(at: updatedColumn, column: "updated", .integer)
            let version = try record.columnValue(at: versionColumn, column: "version", .integer)
            guard case .integer(let count) = updated else {
                throw .storeUnreadable(table: "business", column: "updated", reason: "it is NULL")
            }
            if case .integer(let version) = version { return (count, version) }
            return (count, nil)
        }
        throw .storeUnreadable(
            table: "business", column: "version", reason: "the commit's statement returned no header")
    }

    /// The child rows of a result, by table name (the header row, if any, aside), each as a commit compares it.
    static func rows(_ records: [StoredRecord]) throws(RegistrationError) -> [String: [ChildRow]] {
        var stored: [String: [ChildRow]] = [:]
        for var record in records {
            let index = try tag(of: record)
            guard index >= 0 else { continue }
            guard index < RegistrationRows.tables.count else {
                throw .storeUnreadable(table: record.table, column: "tag", reason: "it names no table")
            }
            let table = RegistrationRows.tables[index]
            record.table = table.name
            var values: [ColumnValue] = []
            values.reserveCapacity(table.columns.count)
            for (position, column) in table.columns.enumerated() {
                values.append(try record.columnValue(at: slots[index][position], column: column.name, column.type))
            }
            stored[table.name, default: []].append((values[table.keyIndex], values))
        }
        return stored
    }
}
