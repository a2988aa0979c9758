/// The web origin of a portal (`https://portal.example.jp`, `http://127.0.0.1:8080`): what a card signature made
/// for that portal is bound to, so that a page of another site can never reuse it.
///
/// An origin is written exactly as a browser sends it in the `Origin` header: a lowercase scheme (`https`, or
/// `http`), `://`, a lowercase host name (international names in their `xn--` form), an IPv4 address or a
/// bracketed IPv6 address, and a port only when it is not the scheme's default. Anything else — a path, even a
/// lone `/`, a query, a fragment, user information, a default port written out, upper case — is refused rather
/// than tidied, so that two spellings of one site can never pass for two origins, or one for another.
///
/// ```swift
/// let origin = try PortalOrigin("https://portal.example.jp")
/// ```
public struct PortalOrigin: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The origin as text, exactly as parsed (`https://portal.example.jp`).
    public let description: String
    /// `https` or `http`.
    public let scheme: String
    /// The host: a name, an IPv4 address, or an IPv6 address in brackets.
    public let host: String
    /// The port, or nil for the scheme's default (443, 80).
    public let port: Int?

    /// The longest origin accepted, in bytes.
    public static let maximumLength = 255

    /// Parses an origin.
    ///
    /// - Throws: ``EvidenceError/Code-swift.struct/malformedOrigin`` naming what is wrong.
    public init(_ text: String) throws(EvidenceError) {
        func refuse(_ reason: String) -> EvidenceError {
            EvidenceError(.malformedOrigin, "the origin \(Self.quoted(text)) \(reason)")
        }
        guard text.utf8.count <= Self.maximumLength else {
            throw refuse("is longer than \(Self.maximumLength) bytes")
        }
        let scheme: String
        let rest: Substring
        if text.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst(8)
        } else if text.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst(7)
        } else {
            throw refuse("does not begin with https:// or http:// (in lower case)")
        }
        if let bad = rest.first(where: { "/?#@\\".contains($0) }) {
            throw refuse(
                bad == "@"
                    ? "carries user information (@); an origin is a scheme, a host and a port only"
                    : "has a path, query or fragment (\(bad)); write it without, as a browser sends it")
        }
        var host = Substring(rest)
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw refuse("has an IPv6 address without its ]") }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse("has text after its IPv6 address") }
                portText = after.dropFirst()
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit && !$0.isUppercase || $0 == ":" || $0 == "." })
            else { throw refuse("has an IPv6 address that is not written in lower-case hexadecimal") }
        } else {
            if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            }
            guard !host.isEmpty else { throw refuse("has no host") }
            guard
                host.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }),
                !host.hasPrefix("."), !host.hasSuffix("."), !host.contains("..")
            else {
                throw refuse(
                    "has a host that is not a lower-case name or address (write international names in their "
                        + "xn-- form)")
            }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
                portText.allSatisfy(\.isNumber), portText.first != "0", let value = Int(portText), value <= 65535
            else { throw refuse("has a port that is not a number from 1 to 65535") }
            guard value != (scheme == "https" ? 443 : 80) else {
                throw refuse("names the default port \(value); a browser leaves it out, and so must the origin")
            }
            port = value
        }
        description = text
        self.scheme = scheme
        self.host = String(host)
        self.port = port
    }

    /// Whether a browser counts the origin as secure: `https`, or `http` on a loopback address (`127.0.0.1`,
    /// `[::1]`, `localhost`).
    public var isPotentiallyTrustworthy: Bool {
        scheme == "https" || isLoopback
    }

    /// Whether the host is a loopback address or `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "[::1]" || host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }

    /// The origin of a program that reads the card itself, in one process with the rules (the `portal` tool, a
    /// desktop front end): evidence made for it is never accepted by a portal that serves a web origin.
    public static let inProcess = PortalOrigin(uncheckedScheme: "app", host: "procurement-identity.local")

    private init(uncheckedScheme scheme: String, host: String) {
        self.scheme = scheme
        self.host = host
        port = nil
        description = "\(scheme)://\(host)"
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text == Self.inProcess.description {
            self = .inProcess
            return
        }
        do { self = try PortalOrigin(text) } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: PortalOrigin, rhs: PortalOrigin) -> Bool {
        lhs.description < rhs.description
    }

    /// A text for a message: at most 80 characters, controls shown as `?`.
    static func quoted(_ text: String) -> String {
        let shown = String(text.prefix(80)).map { $0.isASCII && ($0.asciiValue ?? 0) < 0x20 ? "?" : $0 }
        return "\"" + String(shown) + (text.count > 80 ? "…\"" : "\"")
    }
}
