import PostgresNIO
import Registration

/// A query that finds businesses' identifiers (one text column) before their registrations are read: its name as a
/// prepared statement, its SQL and its arguments' types.
protocol IdentifierQuery {
    static var name: String { get }
    static var sql: String { get }
    static var bindingDataTypes: [PostgresDataType] { get }
}

/// An ``IdentifierQuery`` as a prepared statement: each connection parses it once instead of on every read (a login
/// reads the registration of its certificate; an operator's list pages through the businesses), and plans it once
/// where PostgreSQL keeps the generic plan (for a page, whose limit is an argument, it may plan again). A page's
/// query is prepared when its SQL and its arguments' kinds are one of these (no filter, or only where the previous
/// page ended); the filtered pages, whose best plan depends on the arguments (how many certificates expire in a
/// range), are parsed and planned on every read. The statements' names must differ: postgres-nio knows a prepared
/// statement by its name alone.
struct IdentifierStatement<Query: IdentifierQuery>: PostgresPreparedStatement {
    static var name: String { Query.name }
    static var sql: String { Query.sql }
    static var bindingDataTypes: [PostgresDataType] { Query.bindingDataTypes }

    let bindings: PostgresBindings

    init(bindings: PostgresBindings) { self.bindings = bindings }

    /// The statement of a query whose one argument is text.
    init(_ text: String) {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(text)
        self.bindings = bindings
    }

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }

    /// Whether `arguments` are of the kinds the statement declares (text for `.text`, an integer for `.int8`): a
    /// page's query is sent as this statement only then, so that no argument is sent as a type it is not.
    static func takes(_ arguments: [ColumnValue]) -> Bool {
        arguments.count == bindingDataTypes.count
            && zip(arguments, bindingDataTypes).allSatisfy { value, type in
                switch value {
                case .text: type == .text
                case .integer: type == .int8
                default: false
                }
            }
    }
}

enum IdentifierQueries {
    /// The business of a user.
    enum OfUser: IdentifierQuery {
        static let name = "registration_id_of_user"
        static let sql = #"SELECT business_id FROM "user" WHERE id = $1"#
        static let bindingDataTypes: [PostgresDataType] = [.text]
    }

    /// The business of a certificate: the one whose binding is active, otherwise the one that bound it last.
    enum BoundTo: IdentifierQuery {
        static let name = "registration_id_bound_to"
        static let sql = """
            SELECT business_id FROM binding WHERE fingerprint = $1
            ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
            """
        static let bindingDataTypes: [PostgresDataType] = [.text]
    }

    /// The business with a 法人番号.
    enum OfCorporateNumber: IdentifierQuery {
        static let name = "registration_id_of_corporate_number"
        static let sql = "SELECT id FROM business WHERE corporate_number = $1"
        static let bindingDataTypes: [PostgresDataType] = [.text]
    }

    /// The first page without a filter: `$1` the limit.
    enum FirstPage: IdentifierQuery {
        static let name = "registration_ids_first_page"
        static let sql = RegistrationPage(limit: 1).sql(placeholder: { "$\($0)" }, contains: "strpos").sql
        static let bindingDataTypes: [PostgresDataType] = [.int8]
    }

    /// A page after a business, without a filter: `$1` the business, `$2` the limit.
    enum PageAfter: IdentifierQuery {
        static let name = "registration_ids_page_after"
        static let sql = RegistrationPage(limit: 1, after: BusinessID(rawValue: "-")).sql(
            placeholder: { "$\($0)" }, contains: "strpos"
        ).sql
        static let bindingDataTypes: [PostgresDataType] = [.text, .int8]
    }
}
