/// A loopback address and port the agent listens on: `127.0.0.1:PORT` or `[::1]:PORT`, never another interface.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// Which loopback address.
    public enum Host: String, Sendable, Hashable {
        /// `127.0.0.1`.
        case ipv4 = "127.0.0.1"
        /// `::1`, written `[::1]` with a port.
        case ipv6 = "::1"
    }

    /// The address.
    public let host: Host
    /// The TCP port (1 to 65535).
    public let port: Int

    /// The port the agent listens on when nothing says otherwise.
    public static let defaultPort = 24780

    /// An address from its parts.
    ///
    /// - Throws: ``AgentConfigurationError`` for a port outside 1…65535.
    public init(host: Host, port: Int) throws(AgentConfigurationError) {
        guard (1...65535).contains(port) else {
            throw AgentConfigurationError("the port \(port) is not a number from 1 to 65535")
        }
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:PORT` or `[::1]:PORT` (what `--listen` and the configuration file's `listen` take).
    ///
    /// - Throws: ``AgentConfigurationError`` for any other address (the agent listens on loopback only) or a bad
    ///   port.
    public init(_ text: String) throws(AgentConfigurationError) {
        let host: Host
        let portText: Substring
        if text.hasPrefix("127.0.0.1:") {
            host = .ipv4
            portText = text.dropFirst("127.0.0.1:".count)
        } else if text.hasPrefix("[::1]:") {
            host = .ipv6
            portText = text.dropFirst("[::1]:".count)
        } else {
            throw AgentConfigurationError(
                "the listen address \"\(text.prefix(80))\" is not 127.0.0.1:PORT or [::1]:PORT; the agent listens "
                    + "on the loopback interface only")
        }
        guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portText)
        else {
            throw AgentConfigurationError("the listen address \"\(text.prefix(80))\" has no port number")
        }
        try self.init(host: host, port: port)
    }

    /// An address whose port the caller knows is in 1…65535.
    init(unchecked host: Host, port: Int) {
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:24780` or `[::1]:24780`.
    public var description: String {
        host == .ipv6 ? "[::1]:\(port)" : "127.0.0.1:\(port)"
    }

    /// The `Host` header values a browser sends to this address: the address itself and `localhost`, each with
    /// the port (`127.0.0.1:24780`, `localhost:24780`; `[::1]:24780`, `localhost:24780`).
    public var hostHeaderValues: [String] {
        [description, "localhost:\(port)"]
    }
}

/// A configuration that cannot be used: a line of the configuration file, a `--listen` or `--allow-origin`
/// value. The sentence names the line and what is wrong.
public struct AgentConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, with the file and line when it comes from a file.
    public let description: String

    /// An error with its sentence.
    public init(_ description: String) {
        self.description = description
    }
}
