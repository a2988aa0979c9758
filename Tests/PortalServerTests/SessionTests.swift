import Foundation
import Hummingbird
import HummingbirdTesting
import Registration
import Testing

@testable import portal_server

@Suite("Sessions and CSRF")
struct SessionTests {
    @Test("the session cookie is HttpOnly, SameSite=Strict, path /, with a lifetime; not Secure over http")
    func cookieAttributes() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let body = try await client.answer(try await client.challenge(), with: registered.representative)
            let response = try await client.send("/api/v1/login", .post, json: body)
            let cookie = try #require(response.headers[.setCookie])
            let attributes = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes[0].hasPrefix("pi_session="))
            #expect(attributes[0].count > "pi_session=".count + 40)
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("SameSite=Strict"))
            #expect(attributes.contains("Path=/"))
            #expect(attributes.contains("Max-Age=1800"))
            #expect(!attributes.contains("Secure"))
        }
    }

    @Test("under an https origin the cookie is Secure and __Host- prefixed")
    func secureCookie() async throws {
        let settings = PortalServerSettings(origin: "https://portal.example.jp", secureCookies: true)
        let bench = try await ServerTestBench(settings: settings)
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let challenge = try await client.send("/api/v1/login/challenge", .post, origin: "https://portal.example.jp")
            let reply = try challenge.json(ChallengeReply.self)
            let body = try await client.answer(
                reply, with: registered.representative, origin: "https://portal.example.jp")
            let response = try await client.send(
                "/api/v1/login", .post, json: body, origin: "https://portal.example.jp")
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("__Host-pi_session="))
            #expect(cookie.hasSuffix("; Secure"))
            let name = String(cookie.prefix { $0 != ";" })
            #expect(try await client.send("/api/v1/session", .get, cookie: name).status == .ok)
        }
    }

    @Test("logout ends the session and clears the cookie")
    func logout() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.agent)
            let response = try await client.send("/api/v1/logout", .post, cookie: cookie)
            #expect(response.status == .noContent)
            #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.send("/api/v1/registration", .get, cookie: cookie)
            #expect(after.status == .unauthorized)
            #expect(try after.problem().rule == "noSession")
        }
    }

    @Test("a session ends after 30 minutes without a request, and without a cookie there is none")
    func expiry() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            #expect(try await client.send("/api/v1/registration", .get).status == .unauthorized)
            let cookie = try await client.login(registered.representative)
            bench.clock.advance(by: 29 * 60)
            #expect(try await client.send("/api/v1/registration", .get, cookie: cookie).status == .ok)
            bench.clock.advance(by: 29 * 60)
            #expect(
                try await client.send("/api/v1/registration", .get, cookie: cookie).status == .ok, "in use: extended")
            bench.clock.advance(by: 30 * 60 + 1)
            #expect(try await client.send("/api/v1/registration", .get, cookie: cookie).status == .unauthorized)
            #expect(
                try await client.send("/api/v1/registration", .get, cookie: "pi_session=forged").status == .unauthorized
            )
        }
    }

    @Test("a session ends when its user is deleted")
    func sessionOfDeletedUser() async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.agent)
            #expect(try await client.send("/api/v1/registration", .get, cookie: cookie).status == .ok)
            _ = try await bench.service.commit(
                try await bench.service.prepare(
                    .deleteUser(registered.agentID), to: registered.businessID,
                    by: .user(registered.representativeID, binding: nil)))
            #expect(try await client.send("/api/v1/registration", .get, cookie: cookie).status == .unauthorized)
        }
        #expect(bench.audit.all.contains { $0.metadata["event"] == "session.revoked" })
    }

    @Test(
        "a state-changing request from a foreign origin, or naming none, is refused (403) and changes nothing",
        arguments: [
            (["Origin": "https://evil.example"], "foreignOrigin"),
            (["Origin": "http://127.0.0.1:8081"], "foreignOrigin"),
            (["Origin": "null"], "foreignOrigin"),
            (["Sec-Fetch-Site": "cross-site"], "foreignOrigin"),
            ([:], "originMissing"),
        ])
    func csrf(_ headers: [String: String], _ rule: String) async throws {
        let bench = try await ServerTestBench()
        let registered = try await bench.registered()
        let before = try await bench.state(registered.businessID)
        try await bench.application().test(.router) { client in
            let cookie = try await client.login(registered.representative)
            var fields = HTTPFields()
            for (name, value) in headers { fields[.init(name)!] = value }
            fields[.ifMatch] = "\"2\""
            let response = try await client.send(
                "/api/v1/registration/qualifications", .post, cookie: cookie, json: #"{"kind":"services","grade":"A"}"#,
                headers: fields, origin: nil)
            #expect(response.status == .forbidden)
            #expect(try response.problem().rule == rule)
            // The same request from the portal's own page goes through.
            fields[.origin] = nil
            fields[.init("Sec-Fetch-Site")!] = "same-origin"
            let same = try await client.send(
                "/api/v1/registration/qualifications", .post, cookie: cookie, json: #"{"kind":"services","grade":"A"}"#,
                headers: fields, origin: nil)
            #expect(same.status == .ok)
        }
        #expect(before == [2, 2])
        #expect(try await bench.state(registered.businessID) == [3, 3])
    }
}
