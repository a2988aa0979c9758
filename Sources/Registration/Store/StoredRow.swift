import Foundation
import GRDB

/// A row of one table read back by the SQLite store: every column is looked up and converted with a typed error
/// that names the table and the column, never with GRDB's subscripts, which trap on a missing column and print
/// the whole row (a person's name, address and mail) in the crash message.
struct StoredRow {
    let row: Row
    /// The table's name, for errors.
    let table: String
    /// The index of each column of the row by its lower-cased name, when the rows of a statement share one
    /// (``columns(of:)``); nil to look each column up in the row.
    let columns: [String: Int]?

    init(_ row: Row, table: String, columns: [String: Int]? = nil) {
        self.row = row
        self.table = table
        self.columns = columns
    }

    /// The index of each result column of `statement` by its lower-cased name (the first of two with one name), as
    /// GRDB finds a column, made once for all the rows of the statement instead of twice per value read.
    static func columns(of statement: Statement) -> [String: Int] {
        Dictionary(
            statement.columnNames.enumerated().map { ($0.element.lowercased(), $0.offset) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The column's database value; a column the row lacks (the schema was altered) is an error, not a trap.
    private func databaseValue(_ column: String) throws -> DatabaseValue {
        if let columns {
            // The names asked are lower-case literals; the index comes from the row's own statement.
            guard let index = columns[column] else {
                throw RegistrationError.storeUnreadable(
                    table: table, column: column, reason: "the table has no such column")
            }
            return row[index] as DatabaseValue
        }
        guard row.hasColumn(column) else {
            throw RegistrationError.storeUnreadable(
                table: table, column: column, reason: "the table has no such column")
        }
        // With the column there, reading it as a DatabaseValue cannot fail (any stored value is one).
        return row[column] as DatabaseValue
    }

    /// A required column's value; NULL or a value of the wrong type is an error.
    func value<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        let stored = try databaseValue(column)
        if stored.isNull {
            throw RegistrationError.storeUnreadable(table: table, column: column, reason: "it is NULL")
        }
        guard let value = Value.fromDatabaseValue(stored) else {
            throw RegistrationError.storeUnreadable(
                table: table, column: column, reason: "it holds a value of another type than \(Value.self)")
        }
        return value
    }

    /// An optional column's value (nil for NULL); a value of the wrong type is an error.
    func optional<Value: DatabaseValueConvertible>(_ column: String) throws -> Value? {
        let stored = try databaseValue(column)
        if stored.isNull { return nil }
        guard let value = Value.fromDatabaseValue(stored) else {
            throw RegistrationError.storeUnreadable(
                table: table, column: column, reason: "it holds a value of another type than \(Value.self)")
        }
        return value
    }

    /// A date stored as seconds since 2001-01-01 (a finite number).
    func date(_ column: String) throws -> Date {
        let seconds: Double = try value(column)
        guard seconds.isFinite else {
            throw RegistrationError.storeUnreadable(table: table, column: column, reason: "it is not a finite time")
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// An optional date.
    func optionalDate(_ column: String) throws -> Date? {
        guard let seconds: Double = try optional(column) else { return nil }
        guard seconds.isFinite else {
            throw RegistrationError.storeUnreadable(table: table, column: column, reason: "it is not a finite time")
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// An enumeration stored as its raw text.
    func enumeration<Value: RawRepresentable>(_ column: String) throws -> Value where Value.RawValue == String {
        let text: String = try value(column)
        guard let value = Value(rawValue: text) else {
            throw RegistrationError.storeUnreadable(table: table, column: column, reason: "it holds an unknown value")
        }
        return value
    }

    /// The column that keeps a field of the input screens, by the field's label (the label itself when unknown).
    static func column(ofField label: String) -> String { StoredField.column(ofField: label) }
}

/// What every store shares about its columns: which column keeps a field of the input screens, and how a stored
/// value that no longer passes its check is said (shared with the PostgreSQL store, in a module of its own).
package enum StoredField {
    /// The column that keeps a field of the input screens, by the field's label (the label itself when unknown).
    package static func column(ofField label: String) -> String {
        switch label {
        case "商号又は名称", "氏名": "name"
        case "所在地", "住所": "address"
        case "郵便番号": "postal_code"
        case "代表者役職名": "representative_title"
        case "代表者氏名": "representative_name"
        case "役職名": "title"
        case "電話番号": "phone"
        case "FAX番号": "fax"
        case "メールアドレス": "mail"
        case "委任者": "principal"
        case "受任者": "agent"
        case "代理権": "authority"
        case "有効期間": "valid_from, valid_until"
        case "電子委任状取扱事業者": "provider"
        case "電子委任状の識別番号": "reference"
        default: label
        }
    }

    /// Rebuilds a value through its checking initialiser; a stored value that no longer passes is a typed error
    /// naming the table and the field's column (never the value).
    package static func checked<Value>(_ table: String, _ make: () throws -> Value) throws -> Value {
        do { return try make() } catch let error as RegistrationError {
            switch error {
            case .storeFailure, .storeUnreadable: throw error
            case .invalidField(let field, let reason):
                throw RegistrationError.storeUnreadable(
                    table: table, column: column(ofField: field),
                    reason: "the stored value no longer passes the check of \(field) (\(reason))")
            case .corporateNumberFormat, .corporateNumberCheckDigit:
                throw RegistrationError.storeUnreadable(
                    table: table, column: "corporate_number", reason: "the stored 法人番号 is not valid")
            default:
                throw RegistrationError.storeUnreadable(
                    table: table, column: "?", reason: "a stored field no longer passes its check")
            }
        }
    }
}
