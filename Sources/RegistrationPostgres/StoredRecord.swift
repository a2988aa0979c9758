import Foundation
import PostgresNIO
import Registration

/// A row of one table read back by the PostgreSQL store: every column is looked up and converted with a typed error
/// that names the table and the column, never with postgres-nio's subscript (which traps on a missing column) and
/// never with its decoding error (which carries the cell's bytes: a person's name, address or mail).
struct StoredRecord {
    let row: PostgresRandomAccessRow
    /// The table's name, for errors.
    var table: String
    /// Where each column is in a row of several tables' shape (``RegistrationReadQuery``), in the table's order;
    /// nil when the row's own column names are the table's.
    let columns: [(name: String, index: Int)]?
    /// Where in `columns` the next look-up starts: after the column found last. The store's readers take the columns
    /// in the table's order, so each is found at the first comparison, without hashing its name (a page of 100
    /// businesses looks up about 8,000 cells). Only with `columns`.
    private let cursor: Cursor?

    private final class Cursor {
        var next = 0
    }

    init(_ row: PostgresRow, table: String) {
        self.row = row.makeRandomAccess()
        self.table = table
        self.columns = nil
        self.cursor = nil
    }

    /// A row whose columns are found at `columns`' indexes, not by the row's names.
    init(_ row: PostgresRandomAccessRow, table: String, columns: [(name: String, index: Int)]) {
        self.row = row
        self.table = table
        self.columns = columns
        self.cursor = Cursor()
    }

    private func cell(_ column: String) throws(RegistrationError) -> PostgresCell {
        if let columns, let cursor {
            var position = cursor.next
            for _ in columns.indices {
                if position >= columns.count { position = 0 }
                if columns[position].name == column {
                    cursor.next = position + 1
                    let index = columns[position].index
                    guard index < row.count else { break }
                    return row[index]
                }
                position += 1
            }
            throw .storeUnreadable(table: table, column: column, reason: "the table has no such column")
        }
        guard row.contains(column) else {
            throw .storeUnreadable(table: table, column: column, reason: "the table has no such column")
        }
        return row[column]
    }

    /// A column's value, or nil for NULL; a value of another type is an error. Text is accepted from text columns
    /// only (postgres-nio would read any column's bytes as text).
    func optional<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self)
        throws(RegistrationError) -> Value?
    {
        try optional(try cell(column), column, as: Value.self)
    }

    /// The value of a cell, read as ``optional(_:as:)`` reads a column; `column` names it in errors.
    private func optional<Value: PostgresDecodable>(_ cell: PostgresCell, _ column: String, as type: Value.Type)
        throws(RegistrationError) -> Value?
    {
        guard cell.bytes != nil else { return nil }
        if Value.self == String.self {
            switch cell.dataType {
            case .text, .varchar, .bpchar: break
            default: throw mismatch(column, Value.self)
            }
        }
        do { return try cell.decode(Value.self) } catch { throw mismatch(column, Value.self) }
    }

    /// A required column's value; NULL or a value of another type is an error.
    func value<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) throws(RegistrationError)
        -> Value
    {
        guard let value = try optional(column, as: Value.self) else {
            throw .storeUnreadable(table: table, column: column, reason: "it is NULL")
        }
        return value
    }

    private func mismatch(_ column: String, _ type: Any.Type) -> RegistrationError {
        .storeUnreadable(table: table, column: column, reason: "it holds a value of another type than \(type)")
    }

    /// A date stored as seconds since 2001-01-01 (a finite number).
    func date(_ column: String) throws(RegistrationError) -> Date {
        let seconds = try value(column, as: Double.self)
        guard seconds.isFinite else {
            throw .storeUnreadable(table: table, column: column, reason: "it is not a finite time")
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// An optional date.
    func optionalDate(_ column: String) throws(RegistrationError) -> Date? {
        guard let seconds = try optional(column, as: Double.self) else { return nil }
        guard seconds.isFinite else {
            throw .storeUnreadable(table: table, column: column, reason: "it is not a finite time")
        }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    /// Bytes stored as `bytea`.
    func bytes(_ column: String) throws(RegistrationError) -> [UInt8] {
        [UInt8](try value(column, as: Data.self))
    }

    /// An enumeration stored as its raw text.
    func enumeration<Value: RawRepresentable>(_ column: String) throws(RegistrationError) -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: try value(column, as: String.self)) else {
            throw .storeUnreadable(table: table, column: column, reason: "it holds an unknown value")
        }
        return value
    }

    /// A column's value as the type its column is written with (a commit compares it with the new value).
    func columnValue(_ column: String, _ type: ColumnType) throws(RegistrationError) -> ColumnValue {
        try columnValue(try cell(column), column, type)
    }

    /// The value of the result column at `index` (which holds the table's `column`), as ``columnValue(_:_:)``
    /// reads it; a row with fewer columns is an error.
    func columnValue(at index: Int, column: String, _ type: ColumnType) throws(RegistrationError) -> ColumnValue {
        guard index < row.count else {
            throw .storeUnreadable(table: table, column: column, reason: "the table has no such column")
        }
        return try columnValue(row[index], column, type)
    }

    private func columnValue(_ cell: PostgresCell, _ column: String, _ type: ColumnType) throws(RegistrationError)
        -> ColumnValue
    {
        let value: ColumnValue? =
            switch type {
            case .text: try optional(cell, column, as: String.self).map(ColumnValue.text)
            case .integer: try optional(cell, column, as: Int.self).map(ColumnValue.integer)
            case .real: try optional(cell, column, as: Double.self).map(ColumnValue.real)
            case .bytes: try optional(cell, column, as: Data.self).map { ColumnValue.bytes([UInt8]($0)) }
            case .boolean: try optional(cell, column, as: Bool.self).map(ColumnValue.boolean)
            }
        return value ?? .null
    }
}
