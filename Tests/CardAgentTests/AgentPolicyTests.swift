import CardCredentials
import Foundation
import Testing

@testable import CardAgent

/// The admission rules. Each refusal case sends a request that every other check would let through, so the test
/// fails when its own check is removed.
@Suite("AgentPolicy")
struct AgentPolicyTests {
    static let portal = "https://portal.example.jp"
    static let port = 24780

    let policy = AgentPolicy(
        allowedOrigins: [try! PortalOrigin(portal), try! PortalOrigin("http://127.0.0.1:8080")],
        listenAddresses: [try! ListenAddress("127.0.0.1:24780"), try! ListenAddress("[::1]:24780")])

    func request(
        _ method: String = "POST", host: String? = "127.0.0.1:24780", origin: String? = portal,
        extra: [(name: String, value: String)] = []
    ) -> AgentRequest {
        var headers: [(name: String, value: String)] = []
        if let host { headers.append(("Host", host)) }
        if let origin { headers.append(("Origin", origin)) }
        return AgentRequest(method: method, path: "/v1/authenticate", headers: headers + extra)
    }

    /// The refusal's code, or nil when the request was let through.
    func refusal(_ request: AgentRequest) throws -> String? {
        guard case .answered(let response) = policy.admit(request) else { return nil }
        #expect(response.status == 403)
        #expect(response.value(of: "Access-Control-Allow-Origin") == nil)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: [String: String]]
        #expect(body?["error"]?["message"]?.isEmpty == false)
        return body?["error"]?["code"]
    }

    @Test("a request from an allowed origin to one of the agent's own names goes on, bound to that origin")
    func admitted() throws {
        for host in ["127.0.0.1:24780", "localhost:24780", "[::1]:24780", "LOCALHOST:24780"] {
            guard case .proceed(let origin) = policy.admit(request(host: host)) else {
                Issue.record("refused Host \(host)")
                continue
            }
            #expect(origin == (try PortalOrigin(Self.portal)))
        }
        let response = policy.withCORS(AgentResponse(status: 200), for: try PortalOrigin(Self.portal))
        #expect(response.value(of: "Access-Control-Allow-Origin") == Self.portal)
        #expect(response.value(of: "Vary") == "Origin")
    }

    @Test(
        "a Host that is not the agent's own name and port is refused (DNS rebinding), whatever the origin",
        arguments: [
            "evil.example:24780", "evil.example", "127.0.0.1", "127.0.0.1:24781", "localhost", "127.0.0.2:24780",
            "0.0.0.0:24780", "127.0.0.1:24780.evil.example", "",
        ])
    func rebindingHost(host: String) throws {
        #expect(try refusal(request(host: host)) == "hostNotAllowed")
        #expect(
            try refusal(request("OPTIONS", host: host, extra: [("Access-Control-Request-Method", "POST")]))
                == "hostNotAllowed")
    }

    @Test("a missing or repeated Host is refused")
    func missingHost() throws {
        #expect(try refusal(request(host: nil)) == "hostNotAllowed")
        #expect(try refusal(request(extra: [("host", "evil.example:24780")])) == "hostNotAllowed")
    }

    @Test("a foreign origin with a good Host is refused")
    func foreignOrigin() throws {
        #expect(try refusal(request(origin: "https://evil.example")) == "originNotAllowed")
    }

    @Test("a request without an Origin, or with two, is refused")
    func missingOrigin() throws {
        #expect(try refusal(request(origin: nil)) == "originMissing")
        #expect(try refusal(request(extra: [("Origin", "https://evil.example")])) == "originMissing")
    }

    @Test("the null origin is refused")
    func nullOrigin() throws {
        #expect(try refusal(request(origin: "null")) == "originMalformed")
    }

    @Test(
        "an origin that differs from an allowed one only by port, scheme, case or a trailing slash is refused",
        arguments: [
            ("https://portal.example.jp:8443", "originNotAllowed"),
            ("http://portal.example.jp", "originNotAllowed"),
            ("https://portal.example.jp:443", "originMalformed"),
            ("https://portal.example.jp/", "originMalformed"),
            ("https://Portal.example.jp", "originMalformed"),
            ("https://portal.example.jp.evil.example", "originNotAllowed"),
            ("http://127.0.0.1:8081", "originNotAllowed"),
            ("http://localhost:8080", "originNotAllowed"),
        ])
    func nearMissOrigin(origin: String, code: String) throws {
        #expect(try refusal(request(origin: origin)) == code)
    }

    @Test("a preflight of an allowed origin gets that exact origin, Vary, the methods and headers, and PNA when asked")
    func preflight() throws {
        let asked = request(
            "OPTIONS",
            extra: [
                ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type"),
                ("Access-Control-Request-Private-Network", "true"),
            ])
        guard case .answered(let response) = policy.admit(asked) else {
            Issue.record("a preflight went on to an operation")
            return
        }
        #expect(response.status == 204)
        #expect(response.value(of: "Access-Control-Allow-Origin") == Self.portal)
        #expect(response.value(of: "Vary") == "Origin")
        #expect(response.value(of: "Access-Control-Allow-Methods") == "GET, POST")
        #expect(response.value(of: "Access-Control-Allow-Headers") == "Content-Type")
        #expect(response.value(of: "Access-Control-Allow-Private-Network") == "true")
        #expect(!response.headers.contains { $0.value.contains("*") })

        let plain = request("OPTIONS", extra: [("Access-Control-Request-Method", "GET")])
        guard case .answered(let answer) = policy.admit(plain) else {
            Issue.record("a preflight went on to an operation")
            return
        }
        #expect(answer.status == 204)
        #expect(answer.value(of: "Access-Control-Allow-Private-Network") == nil)
    }

    @Test("a preflight of a foreign, missing or null origin gets no CORS header")
    func preflightForeign() throws {
        let extra: [(name: String, value: String)] = [
            ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Private-Network", "true"),
        ]
        #expect(try refusal(request("OPTIONS", origin: "https://evil.example", extra: extra)) == "originNotAllowed")
        #expect(try refusal(request("OPTIONS", origin: nil, extra: extra)) == "originMissing")
        #expect(try refusal(request("OPTIONS", origin: "null", extra: extra)) == "originMalformed")
    }

    @Test("a preflight asking for another method or header is refused")
    func preflightMethodOrHeader() throws {
        #expect(
            try refusal(request("OPTIONS", extra: [("Access-Control-Request-Method", "DELETE")])) == "preflightRefused")
        #expect(
            try refusal(
                request(
                    "OPTIONS",
                    extra: [
                        ("Access-Control-Request-Method", "POST"),
                        ("Access-Control-Request-Headers", "content-type, x-pin"),
                    ])) == "preflightRefused")
    }
}

@Suite("AgentConfiguration")
struct AgentConfigurationTests {
    @Test("the file's settings, the command line's origins and listen addresses")
    func parse() throws {
        let configuration = try AgentConfiguration(
            parsing: """
                # card-agent.conf
                allow-origin https://portal.example.jp

                allow-origin   https://test.portal.example.jp:8443
                listen 127.0.0.1:24999
                listen [::1]:24999
                pinentry /usr/bin/pinentry-gnome3
                """)
        #expect(
            configuration.allowedOrigins
                == [
                    try PortalOrigin("https://portal.example.jp"),
                    try PortalOrigin("https://test.portal.example.jp:8443"),
                ])
        #expect(configuration.listenAddresses.map(\.description) == ["127.0.0.1:24999", "[::1]:24999"])
        #expect(configuration.pinentryProgram(environment: [:]) == "/usr/bin/pinentry-gnome3")
        #expect(configuration.pinentryProgram(environment: ["PI_PINENTRY": "/opt/p"]) == "/opt/p")

        let merged = try configuration.adding(origins: ["http://127.0.0.1:8080"], listen: ["127.0.0.1:25000"])
        #expect(merged.allowedOrigins.count == 3)
        #expect(merged.listenAddresses.map(\.description) == ["127.0.0.1:25000"])
        #expect(merged.policy.listenAddresses.flatMap(\.hostHeaderValues) == ["127.0.0.1:25000", "localhost:25000"])

        let empty = try AgentConfiguration(parsing: "")
        #expect(empty.listenAddresses.map(\.description) == ["127.0.0.1:\(ListenAddress.defaultPort)"])
        #expect(empty.pinentryProgram(environment: [:]) == "pinentry")
    }

    @Test(
        "a bad line is an error naming it",
        arguments: [
            ("allow-origin https://portal.example.jp/", "line 1"), ("listen 0.0.0.0:24780", "line 1"),
            ("# ok\nlisten 127.0.0.1:99999", "line 2"), ("allow https://portal.example.jp", "line 1"),
            ("allow-origin", "line 1"), ("pinentry a\npinentry b", "line 2"),
        ])
    func badLine(text: String, line: String) throws {
        let error = #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(parsing: text) }
        #expect(error?.description.contains(line) == true)
    }

    @Test("a bad --allow-origin or --listen is an error")
    func badCommandLine() throws {
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration().adding(origins: ["*"]) }
        #expect(throws: AgentConfigurationError.self) {
            try AgentConfiguration().adding(origins: [], listen: ["192.168.1.2:24780"])
        }
    }
}

/// The check of the caller's user: the kernel's socket tables read right, and a policy with an owner refusing
/// everyone else.
@Suite("LoopbackPeer and the owner check")
struct LoopbackPeerTests {
    /// Two lines of a `/proc/net/tcp` whose client socket (127.0.0.1:51234 → 127.0.0.1:24780) user 1000 owns,
    /// and the agent's end of it, owned by user 0.
    static let table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:60CC 0100007F:C822 01 00000000:00000000 00:00000000 00000000     0        0 1001 1
           1: 0100007F:C822 0100007F:60CC 01 00000000:00000000 00:00000000 00000000  1000        0 1002 1
        """

    @Test("the tables' notation of an address and port (a little-endian machine's)")
    func notation() throws {
        try #require(UInt32(1).littleEndian == 1, "the expected strings are a little-endian machine's")
        #expect(LoopbackPeer.key(("127.0.0.1", 24780)) == "0100007F:60CC")
        #expect(LoopbackPeer.key(("::1", 24780)) == "00000000000000000000000001000000:60CC")
        #expect(LoopbackPeer.key(("localhost", 24780)) == nil)
    }

    @Test("the client's socket is the line whose local end is the caller and remote end the agent")
    func lookup() throws {
        let tables = FileManager.default.temporaryDirectory.appending(path: "tcp-\(UUID().uuidString)")
        try Self.table.write(to: tables, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tables) }
        #expect(
            LoopbackPeer.userID(client: ("127.0.0.1", 51234), server: ("127.0.0.1", 24780), tables: [tables.path])
                == 1000)
        #expect(
            LoopbackPeer.userID(client: ("127.0.0.1", 24780), server: ("127.0.0.1", 51234), tables: [tables.path])
                == 0)
        #expect(
            LoopbackPeer.userID(client: ("127.0.0.1", 51235), server: ("127.0.0.1", 24780), tables: [tables.path])
                == nil)
    }

    @Test("a policy with an owner refuses another user's program and an unknown one, before Host and Origin")
    func owner() throws {
        let policy = AgentPolicy(
            allowedOrigins: [try PortalOrigin("https://portal.example.jp")],
            listenAddresses: [try ListenAddress("127.0.0.1:24780")], owner: 1000)
        func request(_ user: UInt32?) -> AgentRequest {
            AgentRequest(
                method: "GET", path: "/v1/status",
                headers: [("Host", "127.0.0.1:24780"), ("Origin", "https://portal.example.jp")], clientUserID: user)
        }
        guard case .proceed = policy.admit(request(1000)) else {
            Issue.record("the owner's own request was refused")
            return
        }
        for user: UInt32? in [0, 1001, nil] {
            guard case .answered(let response) = policy.admit(request(user)) else {
                Issue.record("user \(String(describing: user)) was let through")
                continue
            }
            #expect(response.status == 403)
            #expect(String(decoding: response.body, as: UTF8.self).contains("\"otherUser\""))
        }
    }
}
