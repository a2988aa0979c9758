import Logging
import PostgresNIO
import Registration

/// The store's connections: opened on demand up to a limit, kept while idle, dropped when they broke.
///
/// postgres-nio's `PostgresClient` keeps retrying a server that refuses connections and fails its callers only when
/// its circuit breaker trips (a minute), with a generic error; a store must say at once that the server is down or
/// the password wrong. Each connection here is opened with `PostgresConnection.connect`, whose error says why.
actor ConnectionPool {
    private let configuration: PostgresConnection.Configuration
    private let limit: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    /// Connections open or being opened, idle or leased.
    private var open = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var nextID = 0
    private var isShutDown = false

    init(_ settings: PostgresStoreConfiguration, logger: Logger) throws(RegistrationError) {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: try Self.tls(settings.tls))
        configuration.options.connectTimeout = TimeAmount.nanoseconds(
            settings.connectTimeout.components.seconds * 1_000_000_000
                + settings.connectTimeout.components.attoseconds / 1_000_000_000)
        var parameters = [("application_name", settings.applicationName)]
        if let schema = settings.schema {
            // The store's tables resolve in its schema; `public` stays on the path for extensions.
            parameters.append(("search_path", "\(PostgresSchema.identifier(schema)), public"))
        }
        configuration.options.additionalStartupParameters = parameters
        self.configuration = configuration
        limit = max(1, settings.maximumConnections)
        self.logger = logger
    }

    private static func tls(_ mode: PostgresStoreConfiguration.TLSMode) throws(RegistrationError)
        -> PostgresConnection.Configuration.TLS
    {
        if mode == .disable { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        // libpq's prefer and require encrypt without checking the certificate; verify-full checks it and the name.
        if mode != .verifyFull { tls.certificateVerification = .none }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: tls) } catch {
            throw .storeFailure("TLS for PostgreSQL cannot be set up (\(type(of: error))): check the system's OpenSSL")
        }
        return mode == .prefer ? .prefer(context) : .require(context)
    }

    /// A connection for the caller alone: an idle one, a new one below the limit, or the next one released.
    func lease() async throws -> PostgresConnection {
        while true {
            if isShutDown { throw CancellationError() }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                open -= 1
            }
            if open < limit {
                open += 1
                nextID += 1
                do {
                    return try await PostgresConnection.connect(
                        configuration: configuration, id: nextID, logger: logger)
                } catch {
                    open -= 1
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    /// Gives a connection back; one that broke, or whose state is unknown, is closed instead of kept.
    func release(_ connection: PostgresConnection, reusable: Bool) {
        if reusable, !connection.isClosed, !isShutDown {
            idle.append(connection)
        } else {
            open -= 1
            Self.close(connection)
        }
        wakeOne()
    }

    /// Drops the idle connections (after the server restarted, they are all broken).
    func dropIdle() {
        for connection in idle { Self.close(connection) }
        open -= idle.count
        idle = []
    }

    /// Closes every idle connection and refuses new leases; leased connections close when they come back.
    func shutdown() {
        isShutDown = true
        dropIdle()
        for waiter in waiters { waiter.resume() }
        waiters = []
    }

    /// Closes a connection; the closure holds it until it is closed (postgres-nio asserts that a connection is
    /// closed before it goes away).
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}
