// portal-server: the portal's registrations over HTTP — certificate login, sessions, and the registration changes
// of the rights matrix — as a thin Hummingbird 2 front over the Registration library. Documentation/PortalServer.md
// describes running it, the security model and the endpoints; openapi.yaml beside this file is the API.

import ArgumentParser
import CardCredentials
import CardSimulator
import CertificateRenewal
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import Metrics
import Prometheus
import Registration
import RegistrationPostgres
import ServiceLifecycle
import SimulatorDesk
import ToolSupport
import X509

@main
struct PortalServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portal-server",
        abstract: "The portal's registrations over HTTP: certificate login, sessions, changes under the rights matrix.",
        discussion: """
            Serves the JSON API of openapi.yaml under /api/v1, with /healthz, /readyz, /metrics (Prometheus) and \
            /openapi.yaml. SIGTERM or SIGINT stops it gracefully: requests in flight are finished first. See \
            Documentation/PortalServer.md.

            Environment:
              DATABASE_URL      the database when --db is not given
              PORTAL_NAME       the portal's name in the completion mails (default: 調達ポータル)
              PORTAL_MAIL_FROM  the mails' sender address (default: noreply@portal.example.jp)
              PORTAL_LOG_LEVEL  the log level when --log-level is not given (default: info)
            """,
        version: ToolVersion.current)

    @Option(
        help: ArgumentHelp(
            "The database: an SQLite file (or sqlite:PATH) that `portal register` made, or a PostgreSQL URL "
                + "postgres://USER@HOST[:PORT]/DATABASE (the password best in PGPASSWORD). Default: $DATABASE_URL.",
            valueName: "path-or-url"))
    var db: String?

    @Option(help: ArgumentHelp("Where to listen, HOST:PORT (port 0: any free port).", valueName: "host:port"))
    var listen = "127.0.0.1:8080"

    @Option(
        help: ArgumentHelp(
            "The origin the portal is served at, scheme://host[:port], exactly as browsers send it in Origin.",
            valueName: "origin"))
    var origin: String

    @Option(help: "Trusted root certificates (PEM) for certificate login. Repeat for several files.")
    var trust: [String] = []

    @Option(help: "Certificate revocation lists (DER or PEM) to check at login. Repeat for several.")
    var crl: [String] = []

    @Option(help: ArgumentHelp("The server's certificate chain (PEM) for HTTPS; needs --tls-key.", valueName: "path"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The server's private key (PEM) for HTTPS.", valueName: "path"))
    var tlsKey: String?

    @Option(help: "How long a session lasts after login, in minutes.") var sessionMinutes = 30

    @Option(help: "Login attempts allowed at once per client address and per certificate (the bucket's size).")
    var loginBurst = 10

    @Option(help: "Login attempts that come back a minute, per client address and per certificate.")
    var loginPerMinute = 6.0

    @Option(help: "The largest request body taken, in bytes.") var bodyLimit = 64 * 1024

    @Option(
        help: ArgumentHelp(
            "A reverse proxy's address whose X-Forwarded-For is believed. Repeat for several; none by default.",
            valueName: "address"))
    var trustedProxy: [String] = []

    @Option(
        help: ArgumentHelp(
            "The card agent the pages talk to, http://127.0.0.1:PORT or http://[::1]:PORT (the bidders' agents "
                + "must allow this portal's --origin).",
            valueName: "url"))
    var cardAgent = "http://127.0.0.1:24780"

    @Option(
        help: ArgumentHelp(
            "The card simulator's CA directory (card-simulator --ca): revocation requests (失効申込) go to its desk. "
                + "Without it the portal takes no revocation requests.",
            valueName: "path"))
    var revocationCA: String?

    @Option(
        help: ArgumentHelp(
            "A JSON file from JPKI (公的個人認証サービス) naming the successors of My Number signing certificates, the "
                + "J-LIS link of the certificate update with the My Number card (format: Documentation/PortalServer.md). "
                + "Read again at each question. Without it the portal refuses that update.",
            valueName: "path"))
    var jpkiLinkage: String?

    @Option(
        help: ArgumentHelp(
            "The folder of the reissue example's certification authority (portal reissue --ca; made on first use): "
                + "電子証明書の再発行 and 電子証明書取得 issue there, and its root is trusted for login. Without it "
                + "the portal takes no reissues.",
            valueName: "path"))
    var reissueCA: String?

    @Option(
        help: ArgumentHelp(
            "The contracts' file of `portal reissue contract` (JSON): contracts not yet in the database are "
                + "imported at start (the database then keeps their passwords' digests, lock state and codes).",
            valueName: "path"))
    var reissueContracts: String?

    /// The reissue's desk over `store`, when `--reissue-ca` names one; contracts from `--reissue-contracts`
    /// imported first.
    func reissueDesk(service: RegistrationService, validator: CertificateValidator, authority: FolderReissueAuthority?)
        async throws -> ReissueDesk?
    {
        guard let authority else { return nil }
        let accounts = StoredReissueAccounts(store: service.store)
        if let reissueContracts {
            guard FileManager.default.fileExists(atPath: reissueContracts) else {
                throw ToolFailure(
                    "--reissue-contracts \(reissueContracts) does not exist; `portal reissue contract` makes it.")
            }
            for account in try await JSONReissueAccountStore(path: reissueContracts).accounts() {
                if try await accounts.account(account.contractID) == nil { try await accounts.save(account) }
            }
        }
        return ReissueDesk(
            environment: LifecycleEnvironment(service: service, validator: validator), accounts: accounts,
            authority: authority)
    }

    @Option(
        help: ArgumentHelp(
            "A JSON file from the 電子委任状取扱事業者: the power of attorney (電子委任状) it issues, the answer to each "
                + "取得依頼 of the expired power of attorney's renewal (format: Documentation/Flows/PowerOfAttorney.md; "
                + "its \"provider\" at the start names the provider). Read again at each 取得依頼. Without it the "
                + "portal refuses 取得依頼.",
            valueName: "path"))
    var poaProvider: String?

    /// The 電子委任状取扱事業者: the file's, when `--poa-provider` names one; else one that refuses every request.
    func powerOfAttorneyProvider() throws -> any ElectronicPOAProvider {
        guard let poaProvider else { return NoPowerOfAttorneyProvider() }
        return try POADocumentProvider(path: poaProvider)
    }

    /// The desk revocation requests go to: the simulator CA's, when `--revocation-ca` names one.
    func revocationDesk() throws -> (any RevocationAuthority)? {
        guard let revocationCA else { return nil }
        // The simulator makes a CA wherever it is pointed: a mistyped path must not become a CA of its own.
        let root = URL(fileURLWithPath: revocationCA).appending(path: "eBidding/certificate.pem")
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw ToolFailure(
                "--revocation-ca \(revocationCA) is not a card simulator's CA directory (no eBidding/certificate.pem); "
                    + "give the directory card-simulator --ca made.")
        }
        return SimulatorRevocationDesk(
            authority: try TestCertificateAuthority(directory: URL(fileURLWithPath: revocationCA)))
    }

    @Option(
        help: ArgumentHelp(
            "A file holding the operator's token (32 characters or more) for GET /api/v1/operator/outbox and the "
                + "page /operator. Without it the operator's view is off.",
            valueName: "path"))
    var operatorTokenFile: String?

    /// The operator's token from its file, without the line's end; never printed.
    func operatorToken() throws -> [UInt8]? {
        guard let operatorTokenFile else { return nil }
        let text = try String(contentsOfFile: operatorTokenFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count >= 32, text.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ToolFailure(
                "the operator's token in \(operatorTokenFile) is shorter than 32 characters or has spaces; write a "
                    + "long random one, as `openssl rand -hex 32`.",
                status: .usage)
        }
        return Array(text.utf8)
    }

    func validate() throws {
        guard PortalServerSettings.normalizedOrigin(origin) != nil else {
            throw ValidationError(
                "--origin is scheme://host[:port] with http or https and no path, as https://portal.example.jp.")
        }
        guard !trust.isEmpty else {
            throw ValidationError("Give --trust: the roots (PEM) login certificates chain to.")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together.")
        }
        _ = try bindAddress()
        guard sessionMinutes > 0 else { throw ValidationError("--session-minutes is 1 or more.") }
        guard loginBurst > 0, loginPerMinute >= 0 else {
            throw ValidationError("--login-burst is 1 or more and --login-per-minute 0 or more.")
        }
        guard bodyLimit >= 1024 else { throw ValidationError("--body-limit is 1024 bytes or more.") }
        guard reissueContracts == nil || reissueCA != nil else {
            throw ValidationError("--reissue-contracts needs --reissue-ca: the reissue's certification authority.")
        }
        guard let agent = PortalServerSettings.normalizedOrigin(cardAgent),
            agent.hasPrefix("http://127.0.0.1:") || agent.hasPrefix("http://[::1]:")
        else {
            throw ValidationError(
                "--card-agent is http://127.0.0.1:PORT or http://[::1]:PORT: the agent is on loopback.")
        }
    }

    func bindAddress() throws -> BindAddress {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("--listen is HOST:PORT, as 127.0.0.1:8080.") }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen is HOST:PORT, as 127.0.0.1:8080.") }
        return .hostname(host, port: port)
    }

    var address: String {
        db ?? ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "portal.sqlite"
    }

    /// The database as it may be printed: a PostgreSQL URL without its password.
    var displayAddress: String {
        guard PostgresStoreConfiguration.isPostgresURL(address) else { return address }
        return (try? PostgresStoreConfiguration(url: address).description) ?? "the PostgreSQL database"
    }

    func store() async throws -> any RegistrationStore {
        let address = address
        if PostgresStoreConfiguration.isPostgresURL(address) {
            return try await PostgresRegistrationStore(try PostgresStoreConfiguration(url: address))
        }
        let path = address.hasPrefix("sqlite:") ? String(address.dropFirst("sqlite:".count)) : address
        return try SQLiteRegistrationStore(path: path, mode: .existingOnly)
    }

    func validator(also extra: [Certificate] = []) throws -> CertificateValidator {
        var anchors = extra
        for path in trust {
            anchors += try PEMText.certificates(in: String(contentsOfFile: path, encoding: .utf8), source: path)
        }
        let crls = try crl.map {
            try CertificateRevocationList(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: $0))))
        }
        return CertificateValidator(trustAnchors: anchors, crls: crls, revocation: .whenAvailable)
    }

    func tlsConfiguration() throws -> TLSConfiguration? {
        guard let tlsCert, let tlsKey else { return nil }
        let chain = try NIOSSLCertificate.fromPEMFile(tlsCert)
        let key = try NIOSSLPrivateKey(file: tlsKey, format: .pem)
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    func run() async throws {
        guard !OpenAPIDocument.text.isEmpty else {
            throw ToolFailure("the OpenAPI document (openapi.yaml) is missing beside the executable; rebuild it.")
        }
        let logger = Logger(label: "portal-server")
        let environment = ProcessInfo.processInfo.environment
        let store = try await store()
        let portal = PortalProfile(
            name: environment["PORTAL_NAME"] ?? "調達ポータル",
            mailFrom: try MailAddress(environment["PORTAL_MAIL_FROM"] ?? "noreply@portal.example.jp"))
        let registry = PrometheusCollectorRegistry()
        // Libraries that report through swift-metrics (Hummingbird among them) land in the same registry.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let tls = try tlsConfiguration()
        let normalizedOrigin = PortalServerSettings.normalizedOrigin(origin) ?? origin
        let settings = PortalServerSettings(
            origin: normalizedOrigin, secureCookies: tls != nil || normalizedOrigin.hasPrefix("https:"),
            sessionLifetime: TimeInterval(sessionMinutes * 60), bodyLimit: bodyLimit, loginBurst: loginBurst,
            loginPerMinute: loginPerMinute, trustedProxies: Set(trustedProxy),
            operatorToken: try operatorToken(), cardAgent: PortalServerSettings.normalizedOrigin(cardAgent) ?? cardAgent
        )
        let service = RegistrationService(store: store, portal: portal)
        let portalOrigin = try PortalOrigin(normalizedOrigin)
        // The reissue's CA issues login certificates: its root is trusted like --trust's.
        let reissueAuthority = try reissueCA.map { try FolderReissueAuthority(folder: $0) }
        let trusted = try validator(also: reissueAuthority.map { [$0.root] } ?? [])
        let linkage = try jpkiLinkage.map { try JPKILinkageFile(path: $0) }
        let dependencies = PortalServerDependencies(
            store: store, service: service,
            login: CertificateLogin(
                store: store, validator: trusted, origin: try PortalOrigin(normalizedOrigin)),
            sessions: SessionDesk(store: store, idleLifetime: TimeInterval(sessionMinutes * 60)),
            renewal: RemoteICCardRenewal(
                environment: LifecycleEnvironment(service: service, validator: trusted), origin: portalOrigin),
            certificateUpdate: RemoteCertificateUpdate(
                environment: LifecycleEnvironment(service: service, validator: trusted), origin: portalOrigin,
                linkage: linkage),
            powerOfAttorney: RemotePowerOfAttorney(
                environment: LifecycleEnvironment(service: service, validator: trusted), origin: portalOrigin,
                provider: try powerOfAttorneyProvider(), linkage: linkage),
            revocation: RemoteRevocationRequest(
                environment: LifecycleEnvironment(service: service, validator: trusted), origin: portalOrigin,
                authority: try revocationDesk()),
            reissue: try await reissueDesk(service: service, validator: trusted, authority: reissueAuthority),
            registry: registry, now: { Date() }, audit: Logger(label: "portal-server.audit"))
        let display = displayAddress
        let host = listenHost
        let app = try buildApplication(
            settings: settings, dependencies: dependencies, address: try bindAddress(), tls: tls, logger: logger
        ) { channel in
            // One line on standard output when listening, for scripts (the port when --listen asked for any).
            let port = channel.localAddress?.port ?? 0
            let scheme = tls == nil ? "http" : "https"
            FileHandle.standardOutput.write(
                Data("portal-server: listening on \(scheme)://\(host):\(port) (store \(display))\n".utf8))
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await serviceGroup.run()
        if let postgres = store as? PostgresRegistrationStore { await postgres.close() }
    }

    var listenHost: String { String(listen[..<(listen.lastIndex(of: ":") ?? listen.endIndex)]) }

    /// Logs at info unless told otherwise; no Ctrl-C handler of the tools' own: the service group's handles
    /// SIGTERM and SIGINT gracefully.
    static func main() async {
        await ToolMain.runServer(Self.self, tool: "portal-server", environmentLogLevel: "PORTAL_LOG_LEVEL")
    }
}
