import Foundation
import PostgresNIO
import Registration

/// PostgreSQL's and postgres-nio's errors as the sentences of `RegistrationError.storeFailure`.
///
/// A sentence names what was being done, where (the address without its password) and what happened, and what to do
/// next. It never holds the password, and never the server's `DETAIL` (which quotes the values of a row, e.g.
/// `Key (corporate_number)=(…) already exists`): of the server's error, only the SQLSTATE, the constraint's name and,
/// for errors about the connection, login, database or server, its message. The one exception is a migration that
/// objects of the database's own block (``migrationRefused(_:to:at:)``), whose detail names those objects.
enum PostgresFailure {
    static func error(
        _ error: any Error, while activity: String, at location: String, connecting: Bool = false,
        committing: Bool = false
    ) -> RegistrationError {
        if let error = error as? RegistrationError { return error }
        if error is CancellationError { return .storeFailure("\(activity) was cancelled") }
        guard let error = error as? PSQLError else {
            return .storeFailure("\(activity) failed at \(location): \(type(of: error))")
        }
        // Before COMMIT was sent, the server rolls the transaction back; once it was sent, only the server knows.
        let outcome =
            committing
            ? "; the change is either stored whole or not at all: read the registration again before repeating it"
            : "; nothing was changed"
        switch error.code {
        case .connectionError:
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) cannot be reached (\(reason(error.underlying))); check that the "
                    + "server runs and listens on that host and port")
        case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection:
            return .storeFailure(
                "\(activity): the connection to PostgreSQL at \(location) was lost" + (connecting ? "" : outcome))
        case .sslUnsupported:
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) does not offer TLS, which sslmode asks for; use sslmode=prefer "
                    + "or turn TLS on in the server")
        case .failedToAddSSLHandler:
            return .storeFailure("\(activity): TLS with PostgreSQL at \(location) could not be set up")
        case .authMechanismRequiresPassword:
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) asks for a password and none was given; give it in the URL, "
                    + "or in PGPASSWORD")
        case .unsupportedAuthMechanism:
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) asks for an authentication method this store does not support "
                    + "(it supports password, md5 and scram-sha-256)")
        case .saslError:
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) refused the login (SCRAM failed); check the user name and the "
                    + "password (not shown)")
        case .server:
            return server(error, activity, location, outcome)
        default:
            if isConnectionLost(error) {
                return .storeFailure("\(activity): the connection to PostgreSQL at \(location) was lost" + outcome)
            }
            return .storeFailure("\(activity) failed at \(location) (postgres-nio: \(error.code))")
        }
    }

    private static func server(_ error: PSQLError, _ activity: String, _ location: String, _ outcome: String)
        -> RegistrationError
    {
        let state = error.serverInfo?[.sqlState] ?? "?"
        let message = error.serverInfo?[.message] ?? ""
        let constraint = error.serverInfo?[.constraintName]
        let table = error.serverInfo?[.tableName]
        switch state {
        case "28P01", "28000":
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) refused the login (SQLSTATE \(state): wrong password, or no "
                    + "such role, or pg_hba.conf refuses it); check the user name and the password (not shown)")
        case "3D000":
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) has no such database (SQLSTATE 3D000); create it or correct "
                    + "the URL")
        case "53300":
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) has too many connections (SQLSTATE 53300); lower the stores' "
                    + "maximumConnections or raise max_connections")
        case "57P01", "57P02":
            return .storeFailure(
                "\(activity): the connection to PostgreSQL at \(location) was lost: the server ended it (SQLSTATE "
                    + "\(state): \(message))" + outcome)
        case "57P03":
            return .storeFailure(
                "\(activity): PostgreSQL at \(location) is starting or shutting down (SQLSTATE 57P03); try again when "
                    + "it runs")
        case "40001", "40P01":
            return .storeFailure(
                "\(activity) collided with another server's transaction (SQLSTATE \(state)); nothing was changed: "
                    + "try again")
        case "42P01", "42703":
            return .storeFailure(
                "\(activity): a table or column the store needs is missing at \(location) (SQLSTATE \(state): "
                    + "\(message)); the schema was changed behind the store's back")
        default:
            // Messages of data errors may quote values; only the code and the names of what was broken are said.
            let names = [table.map { "table \($0)" }, constraint.map { "constraint \($0)" }].compactMap { $0 }
            let about = names.isEmpty ? "" : ", " + names.joined(separator: ", ")
            let operational = ["08", "3D", "42", "53", "55", "57", "58", "XX"].contains(String(state.prefix(2)))
            let said = operational && !message.isEmpty ? ": \(message)" : ""
            if state.hasPrefix("23") {
                return .storeFailure("\(activity) broke a rule of the schema (SQLSTATE \(state)\(about))")
            }
            return .storeFailure("\(activity) failed at \(location) (SQLSTATE \(state)\(about)\(said))")
        }
    }

    /// A migration statement the server refused because of objects of the operators' own: a view or a rule that
    /// reads a column the migration changes (SQLSTATE 0A000; version 5 changes the identifiers' collation), or any
    /// other object that depends on it (2BP01). The sentence names the version, the server's message and its detail
    /// (which name the objects: `rule _RETURN on view … depends on column …`, never a row's values), and what to do.
    /// Nil for other errors, which say what they say.
    static func migrationRefused(_ error: PSQLError, to version: Int, at location: String) -> RegistrationError? {
        guard error.code == .server, let state = error.serverInfo?[.sqlState], ["0A000", "2BP01"].contains(state)
        else { return nil }
        let message = error.serverInfo?[.message] ?? ""
        // The detail only of the refusals whose detail lists dependent objects (`rule _RETURN on view … depends on
        // column …`, `view … depends on table …`), not of every error these broad codes may carry.
        let dependencies = message.hasPrefix("cannot alter type of a column used") || message.hasPrefix("cannot drop")
        let detail = dependencies ? error.serverInfo?[.detail].map { "; \($0)" } ?? "" : ""
        return .storeFailure(
            "migrating the database at \(location) to schema version \(version) was refused (SQLSTATE \(state): "
                + "\(message)\(detail)); nothing was changed. An object of the database's own, such as a view, depends "
                + "on a column or table the migration changes: drop it, open the store again (the migration runs), then "
                + "create it again")
    }

    /// Whether the connection went away (as opposed to the server refusing a statement).
    static func isConnectionLost(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return [.serverClosedConnection, .uncleanShutdown, .clientClosedConnection, .connectionError].contains(
            error.code)
            || ["57P01", "57P02"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    /// Whether the server refused a statement prepared on the connection because the tables it reads changed since
    /// ("cached plan must not change result type", SQLSTATE 0A000): another server migrated the schema, or an operator
    /// altered a column. The connection's other prepared statements are stale too.
    static func isStalePreparedStatement(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return error.code == .server && error.serverInfo?[.sqlState] == "0A000"
    }

    /// The name of the unique constraint or index a statement violated (SQLSTATE 23505), or nil.
    static func violatedUniqueConstraint(_ error: PSQLError) -> String? {
        guard error.code == .server, error.serverInfo?[.sqlState] == "23505" else { return nil }
        return error.serverInfo?[.constraintName]
    }

    /// Why a connection could not be made, in a few words (NIO's errors name addresses, never the password).
    private static func reason(_ underlying: (any Error)?) -> String {
        guard let underlying else { return "no reason given" }
        if let error = underlying as? NIOConnectionError {
            if let first = error.connectionErrors.first { return reason(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "its host name does not resolve" }
            return "no address to connect to"
        }
        if let error = underlying as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused: nothing listens there"
            case ETIMEDOUT: return "the connection timed out"
            case EHOSTUNREACH, ENETUNREACH: return "no route to the host"
            default: return "error \(error.errnoCode)"
            }
        }
        if underlying is ChannelError { return "the connection timed out or closed" }
        return "\(type(of: underlying))"
    }
}
