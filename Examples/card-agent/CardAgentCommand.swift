// card-agent: the bidder's local helper that a portal's web page talks to. A thin Hummingbird 2 front over the
// CardAgent library: every request goes to `CardAgent.handle`, which checks Host and Origin, answers the CORS and
// local network access preflights, asks for PINs through pinentry and works the card through pcscd.
// Documentation/CardAgent.md describes the protocol and its security model.

import ArgumentParser
import CardAgent
import CardCredentials
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import ToolSupport

@main
struct CardAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card-agent",
        abstract: "The card agent: lets the pages of the portals you allow use your card, on this computer only.",
        discussion: """
            Listens on the loopback interface only (127.0.0.1:\(ListenAddress.defaultPort) unless told otherwise) and \
            answers only pages of the allowed origins. Every PIN and every consent is asked through pinentry, never \
            through the page. SIGTERM or SIGINT stops it after the requests in flight. See \
            Documentation/CardAgent.md.

            The configuration file (--config; default $XDG_CONFIG_HOME/procurement-identity/card-agent.conf when it \
            exists) has one setting a line: allow-origin URL, listen 127.0.0.1:PORT, pinentry PATH.

            Environment:
              PI_PINENTRY       the PIN dialog program (before the file's pinentry; default: pinentry on PATH)
              PCSCLITE_CSOCK_NAME  pcscd's socket, as for every PC/SC program
            """,
        version: ToolVersion.current)

    @Option(
        name: .customLong("allow-origin"),
        help: ArgumentHelp(
            "An origin whose pages the agent answers, exactly as browsers send it (https://portal.example.jp). "
                + "Repeat for several; added to the configuration file's.",
            valueName: "origin"))
    var allowOrigin: [String] = []

    @Option(
        help: ArgumentHelp(
            "Where to listen: 127.0.0.1:PORT or [::1]:PORT. Repeat for both; replaces the file's.",
            valueName: "address"))
    var listen: [String] = []

    @Option(help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String?

    /// The configuration file's path: --config, else the default path when that file exists.
    var configurationPath: String? {
        if let config { return config }
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"].map { $0 + "/.config" } ?? "")
        let path = base + "/procurement-identity/card-agent.conf"
        return base.isEmpty || !FileManager.default.fileExists(atPath: path) ? nil : path
    }

    func agentConfiguration() throws -> AgentConfiguration {
        do {
            let file = try configurationPath.map { path throws(AgentConfigurationError) in
                try AgentConfiguration(contentsOfFile: path)
            }
            let configuration = try (file ?? AgentConfiguration()).adding(origins: allowOrigin, listen: listen)
            guard !configuration.allowedOrigins.isEmpty else {
                throw ValidationError(
                    "No origin is allowed: give --allow-origin URL (or allow-origin lines in the configuration file); "
                        + "the agent answers only the pages of the portals you name.")
            }
            return configuration
        } catch let error as AgentConfigurationError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let configuration = try agentConfiguration()
        let logger = Logger(label: "card-agent")
        // Only this user's programs are answered: another user of the computer reaches 127.0.0.1 too.
        let policy = AgentPolicy(
            allowedOrigins: configuration.allowedOrigins, listenAddresses: configuration.listenAddresses,
            owner: UInt32(getuid()))
        let agent = CardAgent(
            policy: policy,
            authenticator: CardAuthenticator(dialogs: Pinentry(program: configuration.pinentryProgram())))
        var services: [any Service] = []
        for address in configuration.listenAddresses {
            services.append(
                Application(
                    responder: AgentResponder(agent: agent, logger: logger),
                    configuration: ApplicationConfiguration(
                        address: .hostname(address.host.rawValue, port: address.port), serverName: "card-agent"),
                    onServerRunning: { _ in
                        // One line on standard output per address, for scripts and people.
                        FileHandle.standardOutput.write(
                            Data("card-agent: listening on http://\(address)\n".utf8))
                    },
                    logger: logger))
        }
        logger.info(
            "allowed origins",
            metadata: ["origins": "\(configuration.allowedOrigins.map(\.description).sorted().joined(separator: " "))"])
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
    }

    /// Logs at info unless told otherwise; the service group handles SIGTERM and SIGINT gracefully.
    static func main() async {
        await ToolMain.runServer(Self.self, tool: "card-agent", environmentLogLevel: "PI_LOG_LEVEL")
    }
}

/// A request's context: the connection's two ends, to ask the kernel whose program is calling.
struct AgentRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remote: SocketAddress?
    let local: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remote = source.channel.remoteAddress
        local = source.channel.localAddress
    }

    /// The user ID of the program at the other end, from the kernel's socket tables.
    var clientUserID: UInt32? {
        guard let remote, let local, let remoteAddress = remote.ipAddress, let remotePort = remote.port,
            let localAddress = local.ipAddress, let localPort = local.port
        else { return nil }
        return LoopbackPeer.userID(
            client: (remoteAddress, remotePort), server: (localAddress, localPort))
    }
}

/// Hands every request to the agent: the method, path, header fields and body as received, and the caller's user
/// ID; the agent decides.
struct AgentResponder: HTTPResponder {
    typealias Context = AgentRequestContext
    let agent: CardAgent
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let path = request.uri.path
        let limit = CardAgent.bodyLimit(for: path)
        // HTTP/1.1's Host travels as the request's authority (the pseudo-header of HTTP/2), not as a field.
        let host = request.head.authority.map { [(name: "Host", value: $0)] } ?? []
        var head = AgentRequest(
            method: request.method.rawValue, path: path,
            headers: host + request.headers.map { (name: $0.name.canonicalName, value: $0.value) }, body: [],
            clientUserID: context.clientUserID)
        var answer: AgentResponse
        do {
            if case .answered(let response) = agent.policy.admit(head) {
                // Refused (or a preflight) on its header fields alone: the body, up to megabytes that a page of
                // any origin may send, is never read.
                answer = response
            } else {
                head.body = Array(buffer: try await request.collectBody(upTo: limit))
                answer = await agent.handle(head)
            }
        } catch {
            answer =
                AgentError(
                    .malformedRequest, "The request's body is longer than \(limit) bytes.", status: 413
                ).response
        }
        // Identifiers only: never a body, a PIN or a certificate.
        logger.info(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(path.prefix(100))",
                "origin": "\(request.headers[.origin]?.prefix(100) ?? "-")", "status": "\(answer.status)",
            ])
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPFields.Element.Name(name) { headers.append(.init(name: field, value: value)) }
        }
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
