import CardCredentials
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Prometheus
import Registration
import ServiceLifecycle

/// Builds the server: the routes over `dependencies`, listening on `address`, with TLS when `tls` is given.
func buildApplication(
    settings: PortalServerSettings, dependencies: PortalServerDependencies, address: BindAddress,
    tls: TLSConfiguration? = nil, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = PortalRoutes(settings: settings, dependencies: dependencies).router()
    let server: HTTPServerBuilder = try tls.map { try .tls(.http1(), tlsConfiguration: $0) } ?? .http1()
    return Application(
        router: router, server: server,
        configuration: ApplicationConfiguration(address: address, serverName: "portal-server"),
        onServerRunning: onServerRunning, logger: logger)
}
