import Foundation

/// A column's value as both stores write it: what a commit compares to find the rows that changed.
package enum ColumnValue: Hashable, Sendable {
    case null
    case text(String)
    case integer(Int)
    case real(Double)
    case bytes([UInt8])
    case boolean(Bool)
}

/// The type of a column of a registration's child table, so that a store reads each back as the same
/// ``ColumnValue`` it was written as (SQLite keeps a Boolean as an integer, PostgreSQL as a `boolean`).
package enum ColumnType: Sendable {
    case text
    case integer
    case real
    case bytes
    case boolean
}

/// A table that holds rows of a registration (its qualifications, users, certificate bindings and powers of
/// attorney), keyed within the registration by one column.
package struct ChildTable: Sendable {
    /// The table's name, quoted when SQL needs it (`"user"`).
    package let name: String
    /// The column that identifies a row within the registration (`id`, or `position` for qualifications).
    package let key: String
    /// Every column a commit writes (the key among them), `business_id` aside.
    package let columns: [(name: String, type: ColumnType)]

    /// The index of the key among ``columns``.
    package var keyIndex: Int { columns.firstIndex { $0.name == key } ?? 0 }

    /// `SELECT` of the columns of a registration's rows, with `placeholder` for the business's identifier.
    package func selectSQL(placeholder: String) -> String {
        "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(name) WHERE business_id = \(placeholder)"
    }
}

/// A row a commit writes: its table, its key and its columns' values (in the order of ``ChildTable/columns``).
package typealias ChildRow = (key: ColumnValue, values: [ColumnValue])

/// One statement of a commit's write, with its arguments and, for a statement that a unique rule may refuse, what
/// the refusal means.
package struct RowWrite: Sendable {
    /// What the statement does to its row.
    package enum Operation: Sendable { case insert, update, delete }

    /// The table written.
    package let table: String
    /// What is done.
    package let operation: Operation
    /// The SQL, with `placeholder(n)` (1-based) for its arguments.
    package let sql: String
    /// The arguments, in order.
    package let arguments: [ColumnValue]
    /// The error a violated primary key of the row means (it belongs to another registration).
    package let primaryKeyError: RegistrationError?
    /// The error a violated unique rule other than the key means (a second active certificate or representative).
    package let uniqueError: RegistrationError?
}

/// The rows of a registration in its child tables, and the writes that turn the stored rows into a new
/// registration's: what both stores' commits share.
///
/// A commit reads the registration's rows in its transaction (after the business row's version check, so that no
/// other commit of the registration runs between), compares them with the new registration's and writes only what
/// differs: an `INSERT` for a new row, an `UPDATE` of the changed columns for a changed one, a `DELETE` for one that
/// is gone. Rows that did not change are not written at all.
package enum RegistrationRows {
    /// The child tables, in the order of their foreign keys (a binding and a power of attorney refer to a user).
    package static let tables: [ChildTable] = [qualification, user, binding, powerOfAttorney]

    package static let qualification = ChildTable(
        name: "qualification", key: "position",
        columns: [("position", .integer), ("kind", .text), ("grade", .text)])

    package static let user = ChildTable(
        name: #""user""#, key: "id",
        columns: [
            ("id", .text), ("position", .integer), ("role", .text), ("title", .text), ("name", .text),
            ("postal_code", .text), ("address", .text), ("phone", .text), ("fax", .text), ("mail", .text),
            ("status", .text), ("registered_at", .real), ("deleted_at", .real),
        ])

    package static let binding = ChildTable(
        name: "binding", key: "id",
        columns: [
            ("id", .text), ("user_id", .text), ("position", .integer), ("kind", .text), ("issuer", .text),
            ("subject", .text), ("serial_number", .text), ("fingerprint", .text), ("not_valid_before", .real),
            ("not_valid_after", .real), ("certificate", .bytes), ("status", .text), ("bound_at", .real),
            ("ended_at", .real), ("superseded_by", .text),
        ])

    package static let powerOfAttorney = ChildTable(
        name: "power_of_attorney", key: "id",
        columns: [
            ("id", .text), ("agent_id", .text), ("position", .integer), ("principal", .text), ("agent", .text),
            ("authority", .text), ("valid_from", .real), ("valid_until", .real), ("provider", .text),
            ("reference", .text), ("is_superseded", .boolean),
        ])

    private static func time(_ date: Date) -> ColumnValue { .real(date.timeIntervalSinceReferenceDate) }
    private static func time(_ date: Date?) -> ColumnValue { date.map(time) ?? .null }
    private static func text(_ text: String?) -> ColumnValue { text.map(ColumnValue.text) ?? .null }

    /// The rows of `registration` in `table`, in the order of its list.
    package static func rows(of registration: BusinessRegistration, in table: ChildTable) throws -> [ChildRow] {
        switch table.name {
        case qualification.name:
            return registration.qualifications.enumerated().map { position, qualification in
                (
                    .integer(position),
                    [.integer(position), .text(qualification.kind.rawValue), .text(qualification.grade.rawValue)]
                )
            }
        case user.name:
            return registration.users.enumerated().map { position, user in
                let information = user.information
                return (
                    .text(user.id.rawValue),
                    [
                        .text(user.id.rawValue), .integer(position), .text(user.role.rawValue),
                        .text(information.title),
                        .text(information.name), .text(information.postalCode.text), .text(information.address),
                        .text(information.phone.text), text(information.fax?.text), .text(information.mail.text),
                        .text(user.status.rawValue), time(user.registeredAt), time(user.deletedAt),
                    ]
                )
            }
        case binding.name:
            return registration.bindings.enumerated().map { position, binding in
                (
                    .text(binding.id.rawValue),
                    [
                        .text(binding.id.rawValue), .text(binding.userID.rawValue), .integer(position),
                        .text(binding.kind.rawValue), .text(binding.issuer), .text(binding.subject),
                        .text(binding.serialNumber), .text(binding.fingerprint), time(binding.notValidBefore),
                        time(binding.notValidAfter), .bytes(binding.certificateDER),
                        .text(binding.recordedStatus.rawValue),
                        time(binding.boundAt), time(binding.endedAt), text(binding.supersededBy?.rawValue),
                    ]
                )
            }
        default:
            return try registration.powersOfAttorney.enumerated().map { position, power in
                let authority = String(decoding: try JSONEncoder().encode(power.authority), as: UTF8.self)
                return (
                    .text(power.id.rawValue),
                    [
                        .text(power.id.rawValue), .text(power.agentID.rawValue), .integer(position),
                        .text(power.principal), .text(power.agent), .text(authority), time(power.validFrom),
                        time(power.validUntil), .text(power.provider), .text(power.reference),
                        .boolean(power.isSuperseded),
                    ]
                )
            }
        }
    }

    /// Whether a row's new values free a unique rule (an ended binding, a deleted user), so that its update runs
    /// before the updates and inserts that may take the rule up.
    private static func releases(_ table: ChildTable, _ values: [ColumnValue]) -> Bool {
        guard let status = table.columns.firstIndex(where: { $0.name == "status" }) else { return false }
        return values[status] != .text("active")
    }

    /// The writes that turn `stored` (the registration's rows read in the commit's transaction, by table name) into
    /// the rows of `registration`: deletes first (children before their users), then updates (those that end a
    /// binding or delete a user before the others), then inserts (users before their bindings).
    ///
    /// A row whose position changes is first moved to a negative position of its own, so that two rows trading
    /// places never meet on `UNIQUE (business_id, position)`.
    ///
    /// - Parameter placeholder: the SQL of the n-th argument (1-based): `?` for SQLite, `$n` for PostgreSQL.
    package static func writes(
        from stored: [String: [ChildRow]], to registration: BusinessRegistration,
        placeholder: (Int) -> String
    ) throws -> [RowWrite] {
        let business = ColumnValue.text(registration.id.rawValue)
        var deletes: [RowWrite] = []
        var moves: [RowWrite] = []
        var releasing: [RowWrite] = []
        var updates: [RowWrite] = []
        var inserts: [RowWrite] = []
        for table in tables {
            let new = try rows(of: registration, in: table)
            let old = Dictionary((stored[table.name] ?? []).map { ($0.key, $0.values) }) { first, _ in first }
            let newKeys = Set(new.map(\.key))
            let errors = self.errors(table, registration)
            for (key, _) in stored[table.name] ?? [] where !newKeys.contains(key) {
                deletes.append(
                    RowWrite(
                        table: table.name, operation: .delete,
                        sql: "DELETE FROM \(table.name) WHERE business_id = \(placeholder(1)) AND \(table.key) = "
                            + placeholder(2),
                        arguments: [business, key], primaryKeyError: nil, uniqueError: nil))
            }
            let position = table.columns.firstIndex { $0.name == "position" }
            for (key, values) in new {
                guard let before = old[key] else {
                    let names = ["business_id"] + table.columns.map(\.name)
                    inserts.append(
                        RowWrite(
                            table: table.name, operation: .insert,
                            sql: "INSERT INTO \(table.name) (\(names.joined(separator: ", "))) VALUES ("
                                + (1...names.count).map(placeholder).joined(separator: ", ") + ")",
                            arguments: [business] + values, primaryKeyError: errors.primaryKey(key, values),
                            uniqueError: errors.unique(key, values)))
                    continue
                }
                let changed = table.columns.indices.filter { before[$0] != values[$0] }
                guard !changed.isEmpty else { continue }
                if let position, changed.contains(position), table.key != "position",
                    case .integer(let target) = values[position]
                {
                    moves.append(
                        RowWrite(
                            table: table.name, operation: .update,
                            sql: "UPDATE \(table.name) SET position = \(placeholder(1)) WHERE business_id = "
                                + "\(placeholder(2)) AND \(table.key) = \(placeholder(3))",
                            arguments: [.integer(-1 - target), business, key], primaryKeyError: nil,
                            uniqueError: nil))
                }
                let assignments = changed.enumerated().map { offset, column in
                    "\(table.columns[column].name) = \(placeholder(offset + 1))"
                }
                let update = RowWrite(
                    table: table.name, operation: .update,
                    sql: "UPDATE \(table.name) SET \(assignments.joined(separator: ", ")) WHERE business_id = "
                        + "\(placeholder(changed.count + 1)) AND \(table.key) = \(placeholder(changed.count + 2))",
                    arguments: changed.map { values[$0] } + [business, key], primaryKeyError: nil,
                    uniqueError: errors.unique(key, values))
                if releases(table, values) { releasing.append(update) } else { updates.append(update) }
            }
        }
        // Children of a user go before the user (their foreign key would delete them anyway).
        return deletes.reversed() + moves + releasing + updates + inserts
    }

    /// What a refused write of a row of `table` means.
    private static func errors(_ table: ChildTable, _ registration: BusinessRegistration) -> (
        primaryKey: (ColumnValue, [ColumnValue]) -> RegistrationError?,
        unique: (ColumnValue, [ColumnValue]) -> RegistrationError?
    ) {
        func id(_ key: ColumnValue) -> String { if case .text(let text) = key { text } else { "?" } }
        switch table.name {
        case user.name:
            return (
                { key, _ in .storeFailure("user \(id(key)) belongs to another registration") },
                { _, _ in .changeNotAllowed("a business has one representative (代表者); the registration lists two") }
            )
        case binding.name:
            let fingerprint = table.columns.firstIndex { $0.name == "fingerprint" } ?? 0
            return (
                { key, _ in .storeFailure("certificate binding \(id(key)) belongs to another registration") },
                { _, values in .certificateAlreadyBound(fingerprint: id(values[fingerprint])) }
            )
        case powerOfAttorney.name:
            return (
                { key, _ in .storeFailure("power of attorney \(id(key)) belongs to another registration") },
                { _, _ in nil }
            )
        default:
            return ({ _, _ in nil }, { _, _ in nil })
        }
    }
}

extension RegistrationRows {
    /// The columns of a business row as a commit writes them (`number` aside, which the database gives).
    package static let businessColumns = [
        "id", "version", "registered_at", "name", "postal_code", "address", "representative_title",
        "representative_name", "corporate_number", "phone",
    ]

    /// The values of a registration's business row, in the order of ``businessColumns``.
    package static func businessValues(_ registration: BusinessRegistration) -> [ColumnValue] {
        let business = registration.business
        return [
            .text(registration.id.rawValue), .integer(registration.version),
            .real(registration.registeredAt.timeIntervalSinceReferenceDate), .text(business.name),
            .text(business.postalCode.text), .text(business.address), .text(business.representativeTitle),
            .text(business.representativeName), text(business.corporateNumber?.digits), .text(business.phone.text),
        ]
    }

    /// Multi-row `INSERT`s of new registrations (their business rows, then their child rows), one statement per
    /// table: the fast path that seeds a database (the benchmark's 100,000 businesses), without history or outbox.
    /// A store runs them in one transaction; keep a batch to a few hundred registrations (SQLite takes at most
    /// 32,766 arguments in one statement, PostgreSQL 65,535).
    package static func bulkInserts(_ registrations: [BusinessRegistration], placeholder: (Int) -> String) throws
        -> [(sql: String, arguments: [ColumnValue])]
    {
        func statement(_ table: String, _ columns: [String], _ rows: [[ColumnValue]]) -> (
            sql: String, arguments: [ColumnValue]
        )? {
            guard !rows.isEmpty else { return nil }
            var next = 0
            let tuples = rows.map { row in
                "("
                    + row.map { _ in
                        next += 1
                        return placeholder(next)
                    }.joined(separator: ", ") + ")"
            }
            return (
                "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))",
                rows.flatMap { $0 }
            )
        }
        var statements = [statement("business", businessColumns, registrations.map(businessValues))]
        for table in tables {
            let rows = try registrations.flatMap { registration in
                try self.rows(of: registration, in: table).map { [.text(registration.id.rawValue)] + $0.values }
            }
            statements.append(statement(table.name, ["business_id"] + table.columns.map(\.name), rows))
        }
        return statements.compactMap { $0 }
    }
}
