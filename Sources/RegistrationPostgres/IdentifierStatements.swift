import PostgresNIO
import Registration

/// The queries that find businesses' identifiers before their registrations are read, as prepared statements: each
/// connection parses and plans them once instead of on every read (a login reads the registration of its
/// certificate; an operator's list pages through the businesses). Their SQL is static, its plan the same whatever
/// the arguments. A page's query is prepared when its SQL is one of these (no filter, or only where the previous
/// page ended); the filtered pages, whose best plan depends on the arguments (how many certificates expire in a
/// range), are planned on every read.
enum IdentifierStatements {
    /// The business of a user.
    struct OfUser: PostgresPreparedStatement {
        static let name = "registration_id_of_user"
        static let sql = #"SELECT business_id FROM "user" WHERE id = $1"#
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let id: String
        func makeBindings() throws -> PostgresBindings { IdentifierStatements.bindings(id) }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// The business of a certificate: the one whose binding is active, otherwise the one that bound it last.
    struct BoundTo: PostgresPreparedStatement {
        static let name = "registration_id_bound_to"
        static let sql = """
            SELECT business_id FROM binding WHERE fingerprint = $1
            ORDER BY status = 'active' DESC, bound_at DESC LIMIT 1
            """
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let fingerprint: String
        func makeBindings() throws -> PostgresBindings { IdentifierStatements.bindings(fingerprint) }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// The business with a 法人番号.
    struct OfCorporateNumber: PostgresPreparedStatement {
        static let name = "registration_id_of_corporate_number"
        static let sql = "SELECT id FROM business WHERE corporate_number = $1"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        let digits: String
        func makeBindings() throws -> PostgresBindings { IdentifierStatements.bindings(digits) }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// The first page without a filter: `$1` the limit.
    struct FirstPage: PostgresPreparedStatement {
        static let name = "registration_ids_first_page"
        static let sql = RegistrationPage(limit: 1).sql(placeholder: { "$\($0)" }, contains: "strpos").sql
        static let bindingDataTypes: [PostgresDataType] = [.int8]
        let bindings: PostgresBindings
        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// A page after a business, without a filter: `$1` the business, `$2` the limit.
    struct PageAfter: PostgresPreparedStatement {
        static let name = "registration_ids_page_after"
        static let sql = RegistrationPage(limit: 1, after: BusinessID(rawValue: "-")).sql(
            placeholder: { "$\($0)" }, contains: "strpos"
        ).sql
        static let bindingDataTypes: [PostgresDataType] = [.text, .int8]
        let bindings: PostgresBindings
        func makeBindings() throws -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    private static func bindings(_ text: String) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(text)
        return bindings
    }
}
