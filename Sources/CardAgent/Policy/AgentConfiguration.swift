public import CardCredentials
public import Foundation

/// What the agent is configured with: the origins it answers, the loopback addresses it listens on, and the PIN
/// dialog program.
///
/// ## The configuration file
///
/// UTF-8 text, one setting a line: a key, spaces, a value. Blank lines and lines beginning with `#` are ignored;
/// an unknown key or a bad value is an error naming its line (the agent does not start half-configured).
///
/// ```text
/// # card-agent.conf
/// allow-origin https://portal.example.jp
/// allow-origin https://test.portal.example.jp:8443
/// listen 127.0.0.1:24780
/// listen [::1]:24780
/// pinentry /usr/bin/pinentry-gnome3
/// ```
///
/// - `allow-origin`: an origin exactly as a browser sends it (`PortalOrigin`: no path, no trailing slash, no
///   default port, lower case); repeat the line for each origin.
/// - `listen`: `127.0.0.1:PORT` or `[::1]:PORT`; repeat for both. None: `127.0.0.1:24780`
///   (``ListenAddress/defaultPort``).
/// - `pinentry`: the path of the PIN dialog program (any program that speaks pinentry's Assuan protocol). The
///   environment variable `PI_PINENTRY` takes precedence; with neither, `pinentry` is looked up on `PATH`.
///
/// Origins given on the command line (`--allow-origin`) are added to the file's
/// (``adding(origins:listen:)``); `--listen` replaces the file's addresses.
public struct AgentConfiguration: Sendable, Hashable {
    /// The origins whose pages the agent answers.
    public var allowedOrigins: Set<PortalOrigin>
    /// The addresses the agent listens on (at least one).
    public var listenAddresses: [ListenAddress]
    /// The PIN dialog program from the file, or nil.
    public var pinentryProgram: String?

    /// A configuration from its parts; no listen address means `127.0.0.1:24780`.
    public init(
        allowedOrigins: Set<PortalOrigin> = [], listenAddresses: [ListenAddress] = [], pinentryProgram: String? = nil
    ) {
        self.allowedOrigins = allowedOrigins
        self.listenAddresses = listenAddresses.isEmpty ? [Self.defaultListenAddress] : listenAddresses
        self.pinentryProgram = pinentryProgram
    }

    static let defaultListenAddress = ListenAddress(unchecked: .ipv4, port: ListenAddress.defaultPort)

    /// Reads the configuration file's text (the format above).
    ///
    /// - Parameters:
    ///   - text: The file's text.
    ///   - source: The file's name, for the error messages.
    /// - Throws: ``AgentConfigurationError`` naming the first bad line.
    public init(parsing text: String, source: String = "the configuration") throws(AgentConfigurationError) {
        var origins: Set<PortalOrigin> = []
        var listen: [ListenAddress] = []
        var pinentry: String?
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let key = String(line.prefix { !$0.isWhitespace })
            let value = line.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
            func refuse(_ reason: String) -> AgentConfigurationError {
                AgentConfigurationError("\(source), line \(index + 1): \(reason)")
            }
            guard !value.isEmpty else { throw refuse("\(key) needs a value") }
            switch key {
            case "allow-origin":
                do { origins.insert(try PortalOrigin(value)) } catch { throw refuse(error.description) }
            case "listen":
                do { listen.append(try ListenAddress(value)) } catch { throw refuse(error.description) }
            case "pinentry":
                guard pinentry == nil else { throw refuse("pinentry is given twice") }
                pinentry = value
            default:
                throw refuse(
                    "unknown setting \"\(key.prefix(40))\"; the settings are allow-origin, listen and pinentry")
            }
        }
        self.init(allowedOrigins: origins, listenAddresses: listen, pinentryProgram: pinentry)
    }

    /// Reads a configuration file.
    ///
    /// - Throws: ``AgentConfigurationError`` when the file cannot be read or a line is bad.
    public init(contentsOfFile path: String) throws(AgentConfigurationError) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw AgentConfigurationError(
                "the configuration file \(path) cannot be read: \(error.localizedDescription)")
        }
        try self.init(parsing: text, source: path)
    }

    /// The configuration with the command line's settings: `origins` (`--allow-origin`, each parsed as a
    /// `PortalOrigin`) are added; `listen` (`--listen`), when not empty, replaces the file's addresses.
    ///
    /// - Throws: ``AgentConfigurationError`` for an origin or address that does not parse.
    public func adding(origins: [String], listen: [String] = []) throws(AgentConfigurationError) -> AgentConfiguration {
        var copy = self
        for text in origins {
            do { copy.allowedOrigins.insert(try PortalOrigin(text)) } catch {
                throw AgentConfigurationError("--allow-origin: \(error.description)")
            }
        }
        if !listen.isEmpty {
            var addresses: [ListenAddress] = []
            for text in listen { addresses.append(try ListenAddress(text)) }
            copy.listenAddresses = addresses
        }
        return copy
    }

    /// The PIN dialog program to run: `PI_PINENTRY` from `environment` when set, else the file's `pinentry`,
    /// else `pinentry` (looked up on `PATH`).
    public func pinentryProgram(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let program = environment["PI_PINENTRY"], !program.isEmpty { return program }
        return pinentryProgram ?? "pinentry"
    }

    /// The admission policy of this configuration.
    public var policy: AgentPolicy {
        AgentPolicy(allowedOrigins: allowedOrigins, listenAddresses: listenAddresses)
    }
}
