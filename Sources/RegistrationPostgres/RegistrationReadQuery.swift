import PostgresNIO
import Registration

/// Registrations read in one statement: the business rows and the rows of the four child tables for a list of
/// businesses, as the branches of one `UNION ALL` whose rows have one shape (a tag naming the table, the business's
/// identifier, the row's position in its list, then typed slots: each column of a table in a slot of its type, the
/// other slots NULL).
///
/// One statement is one round trip instead of seven (`BEGIN`, five tables, `COMMIT`), and one snapshot: under
/// PostgreSQL's default isolation (read committed) each statement of a transaction sees the commits made before it
/// began, so five `SELECT`s could read a business of one version with the users of the next. Prepared once per
/// connection (its SQL is static, its columns explicit), it is parsed and planned once.
enum RegistrationReadQuery {
    struct Table {
        /// The table's name in SQL (quoted when it must be).
        let name: String
        /// The name errors use (without quotes).
        let label: String
        /// The column holding the business's identifier (`id` in `business`, `business_id` in the others).
        let businessColumn: String
        /// The list position column, if the rows are a list.
        let positionColumn: String?
        let columns: [(name: String, type: ColumnType)]
    }

    /// `business` first (tag 0), then the child tables in the order of `RegistrationRows.tables`.
    static let tables: [Table] =
        [
            Table(
                name: "business", label: "business", businessColumn: "id", positionColumn: nil,
                columns: [
                    ("id", .text), ("version", .integer), ("registered_at", .real), ("name", .text),
                    ("postal_code", .text), ("address", .text), ("representative_title", .text),
                    ("representative_name", .text), ("corporate_number", .text), ("phone", .text),
                ])
        ]
        + RegistrationRows.tables.map { table in
            Table(
                name: table.name, label: table.name.replacingOccurrences(of: "\"", with: ""),
                businessColumn: "business_id", positionColumn: "position",
                columns: [("business_id", .text)] + table.columns)
        }

    /// Result columns: 0 the tag, 1 the business's identifier, 2 the position, then the slots.
    static let firstSlot = 3

    /// The result column of a row's position in its list.
    static let positionColumn = 2

    /// The tag of each child table's rows.
    static let qualificationTag = tag(of: RegistrationRows.qualification)
    static let userTag = tag(of: RegistrationRows.user)
    static let bindingTag = tag(of: RegistrationRows.binding)
    static let powerOfAttorneyTag = tag(of: RegistrationRows.powerOfAttorney)

    private static func tag(of table: ChildTable) -> Int {
        (RegistrationRows.tables.firstIndex { $0.name == table.name } ?? -2) + 1
    }

    private static let slotTypes: [(type: ColumnType, sql: String)] = [
        (.text, "text"), (.integer, "bigint"), (.real, "double precision"), (.bytes, "bytea"), (.boolean, "boolean"),
    ]

    /// For each table, its columns' result column indexes by name.
    static let columnIndexes: [[String: Int]] = layout.indexes

    /// For each table, its columns with their result column indexes, in the table's order (as records read them).
    static let columnLists: [[(name: String, index: Int)]] = tables.enumerated().map { tag, table in
        table.columns.map { ($0.name, columnIndexes[tag][$0.name] ?? firstSlot) }
    }

    private static let slotSQLTypes: [String] = layout.types

    private static var layout: (indexes: [[String: Int]], types: [String]) {
        var counts: [String: Int] = [:]
        for table in tables {
            for (type, sql) in slotTypes {
                counts[sql] = max(counts[sql] ?? 0, table.columns.filter { $0.type == type }.count)
            }
        }
        var types: [String] = []
        var first: [String: Int] = [:]
        for (_, sql) in slotTypes {
            first[sql] = firstSlot + types.count
            types += Array(repeating: sql, count: counts[sql] ?? 0)
        }
        let indexes = tables.map { table in
            var used: [String: Int] = [:]
            var indexes: [String: Int] = [:]
            for column in table.columns {
                let sql = slotTypes.first { $0.type == column.type }?.sql ?? "text"
                indexes[column.name] = (first[sql] ?? firstSlot) + (used[sql] ?? 0)
                used[sql, default: 0] += 1
            }
            return indexes
        }
        return (indexes, types)
    }

    /// The statement: every table's rows of the businesses `$1` (a `text[]`), unsorted: rows are sent as the server
    /// reads them, and the reader puts each list in order by the position column.
    static let sql: String =
        tables.enumerated().map { tag, table in
            var values = slotSQLTypes.map { "NULL::\($0)" }
            for column in table.columns {
                let index = columnIndexes[tag][column.name] ?? firstSlot
                values[index - firstSlot] = column.name
            }
            // Integer columns are not cast: the UNION makes them bigint beside the other branches' NULL::bigint, and
            // a column whose type was changed behind the store's back fails the statement (42804) instead of being
            // converted quietly.
            let position = table.positionColumn ?? "NULL::bigint"
            return "SELECT \(tag)::integer, \(table.businessColumn)::text, \(position), "
                + "\(values.joined(separator: ", ")) FROM \(table.name) WHERE \(table.businessColumn) = ANY($1)"
        }.joined(separator: "\nUNION ALL\n")

    struct Statement: PostgresPreparedStatement {
        typealias Row = PostgresRow

        static let name = "registration_read"
        static let sql = RegistrationReadQuery.sql
        static let bindingDataTypes: [PostgresDataType] = [.textArray]

        let ids: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(ids)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
    }

    /// Whether the statement failed because the tables are not what it reads: a column missing (42703) or of
    /// another type (42804: the `UNION`'s branches no longer match). A plan prepared before the tables changed
    /// (0A000) is not one: the store tries the whole read again on a new connection, where the statement is
    /// prepared anew.
    static func isSchemaMismatch(_ error: PSQLError) -> Bool {
        error.code == .server && ["42703", "42804"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    /// A result row as a record of its table, whose columns are read by name; a row of no table is a store error.
    static func record(_ row: PostgresRow) throws(RegistrationError) -> (tag: Int, record: StoredRecord) {
        let access = row.makeRandomAccess()
        guard access.count >= firstSlot, access[0].bytes != nil, let tag = try? access[0].decode(Int.self),
            tables.indices.contains(tag)
        else {
            throw .storeUnreadable(table: "business", column: "tag", reason: "the read returned a row of no table")
        }
        return (tag, StoredRecord(access, table: tables[tag].label, columns: columnLists[tag]))
    }
}
