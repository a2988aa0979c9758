public import Foundation
public import Registration

/// Where a ``PostgresRegistrationStore`` finds its database, and how it connects.
///
/// Made from a `postgres://` URL (as `DATABASE_URL` and libpq write it), from libpq's `PG*` variables, or field by
/// field. The password is kept for connecting and never printed: ``description`` (used in every error sentence)
/// names the user, host, port, database and schema only.
///
/// ```swift
/// let configuration = try PostgresStoreConfiguration(url: "postgres://portal@db.example.jp/portal?sslmode=require")
/// let store = try await PostgresRegistrationStore(configuration)
/// ```
public struct PostgresStoreConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The server's host name or IP address.
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to log in as.
    public var username: String
    /// The role's password, or nil when the server asks for none (never printed).
    public var password: String?
    /// The database's name.
    public var database: String
    /// The schema the store's tables live in (created when missing), or nil for the role's default (`public`).
    /// Lets several stores share one database, e.g. one schema per test.
    public var schema: String?
    /// Whether the connection is encrypted.
    public var tls: TLSMode
    /// How many connections the store opens at most; a caller beyond waits for one to be free.
    public var maximumConnections: Int
    /// How long opening a connection may take before it fails.
    public var connectTimeout: Duration
    /// The `application_name` the server shows for the store's connections (`pg_stat_activity`).
    public var applicationName: String

    /// libpq's `sslmode`, as far as this store supports it.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS always, without checking the server's certificate (libpq's `require`).
        case require
        /// TLS always, with the server's certificate checked against the system's trust store and its host name.
        case verifyFull = "verify-full"
    }

    /// A configuration field by field.
    public init(
        host: String, port: Int = 5432, username: String, password: String?, database: String, schema: String? = nil,
        tls: TLSMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.schema = schema
        self.tls = tls
        maximumConnections = 10
        connectTimeout = .seconds(10)
        applicationName = "ProcurementIdentity"
    }

    /// A configuration from a URL of the form `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&schema=…]`
    /// (`postgresql://` too). What the URL leaves out comes from libpq's variables in `environment` (`PGHOST`,
    /// `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`), then from libpq's defaults (`localhost`,
    /// 5432, the user `postgres`, a database named as the user, `prefer`).
    ///
    /// - Throws: `RegistrationError.storeFailure(_:)` with a sentence that never repeats the URL (it may hold a
    ///   password) when the URL is not of that form.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(RegistrationError)
    {
        let form = "the form is postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .storeFailure(
                "the database address is not a valid URL (not repeated here: it may hold a password); \(form)")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .storeFailure("the database address has the scheme \(scheme), not postgres; \(form)")
        }
        var configuration = try Self.fromLibpqVariables(environment)
        if let host = components.host, !host.isEmpty {
            configuration.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        }
        if let port = components.port { configuration.port = port }
        if let user = components.user, !user.isEmpty { configuration.username = user }
        if let password = components.password { configuration.password = password }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if !path.isEmpty {
            configuration.database = path
        } else if environment["PGDATABASE"] == nil {
            configuration.database = configuration.username
        }
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = try Self.tlsMode(value) else {
                    throw .storeFailure(
                        "the database URL asks for sslmode=\(value), which this store does not support; use disable, "
                            + "prefer, require or verify-full")
                }
                configuration.tls = mode
            case "schema":
                configuration.schema = value.isEmpty ? nil : value
            case "application_name":
                configuration.applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else {
                    throw .storeFailure("the database URL's connect_timeout=\(value) is not a number of seconds")
                }
                configuration.connectTimeout = .seconds(seconds)
            default:
                throw .storeFailure(
                    "the database URL has the parameter \(item.name), which this store does not know; it knows "
                        + "sslmode, schema, application_name and connect_timeout")
            }
        }
        self = configuration
    }

    /// The configuration that libpq's variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE`) describe, with libpq's defaults for those not set.
    public static func fromLibpqVariables(_ environment: [String: String]) throws(RegistrationError) -> Self {
        let username = environment["PGUSER"] ?? "postgres"
        var configuration = PostgresStoreConfiguration(
            host: environment["PGHOST"] ?? "localhost", username: username, password: environment["PGPASSWORD"],
            database: environment["PGDATABASE"] ?? username)
        if let port = environment["PGPORT"] {
            guard let number = Int(port), (1...65_535).contains(number) else {
                throw .storeFailure("PGPORT=\(port) is not a TCP port")
            }
            configuration.port = number
        }
        if let mode = environment["PGSSLMODE"] {
            guard let tls = try tlsMode(mode) else {
                throw .storeFailure(
                    "PGSSLMODE=\(mode) is not supported by this store; use disable, prefer, require or verify-full")
            }
            configuration.tls = tls
        }
        return configuration
    }

    private static func tlsMode(_ value: String) throws(RegistrationError) -> TLSMode? {
        switch value {
        case "allow": .prefer
        case "verify-ca":
            throw .storeFailure("sslmode=verify-ca is not supported by this store; use verify-full")
        default: TLSMode(rawValue: value)
        }
    }

    /// Whether a database address names PostgreSQL (`postgres://` or `postgresql://`) rather than an SQLite file.
    public static func isPostgresURL(_ address: String) -> Bool {
        let lowered = address.lowercased()
        return lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://")
    }

    /// The address without the password: `postgres://USER@HOST:PORT/DATABASE` (and the schema when set).
    public var description: String {
        let host = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(host):\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
    }
}
