import Foundation
import Hummingbird

/// The portal's pages (Pages/ beside this file): the HTML, one ES module and one style sheet, served as they are,
/// with the card agent's address put into the page and into its Content-Security-Policy.
enum PortalPages {
    /// A page's file by its name under `/pages/`, with its media type.
    static let files: [String: (resource: String, extension: String, type: String)] = [
        "portal.js": ("portal", "js", "text/javascript; charset=utf-8"),
        "portal.css": ("portal", "css", "text/css; charset=utf-8"),
        "operator.js": ("operator", "js", "text/javascript; charset=utf-8"),
    ]

    static func text(_ name: String, _ fileExtension: String) -> String? {
        guard let url = Bundle.module.url(forResource: name, withExtension: fileExtension, subdirectory: "Pages")
        else { return nil }
        return try? String(contentsOf: url, encoding: .utf8)
    }

    /// The HTML of `GET /`, naming the card agent `agent` (an origin, checked at start: no quotes to escape).
    static func index(agent: String) -> String? {
        text("index", "html")?.replacingOccurrences(of: "{{CARD_AGENT}}", with: agent)
    }

    /// The headers of every page: scripts and styles of the portal only, requests to the portal and the agent
    /// only, no framing, no referrer.
    static func headers(type: String, agent: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = type
        fields[.cacheControl] = "no-store"
        fields[.init("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self' \(agent); base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        fields[.init("X-Frame-Options")!] = "DENY"
        fields[.init("Referrer-Policy")!] = "no-referrer"
        return fields
    }
}

extension PortalRoutes {
    func addPages(to router: Router<PortalRequestContext>) {
        let agent = settings.cardAgent
        router.get("/") { _, _ in
            guard let html = PortalPages.index(agent: agent) else { throw Problem.pagesMissing }
            return Response(
                status: .ok, headers: PortalPages.headers(type: "text/html; charset=utf-8", agent: agent),
                body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/operator") { _, _ in
            guard let html = PortalPages.text("operator", "html") else { throw Problem.pagesMissing }
            return Response(
                status: .ok, headers: PortalPages.headers(type: "text/html; charset=utf-8", agent: agent),
                body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/pages/:file") { _, context in
            let name = try context.parameters.require("file")
            guard let file = PortalPages.files[name] else { throw Problem.noPage }
            guard let text = PortalPages.text(file.resource, file.extension) else { throw Problem.pagesMissing }
            return Response(
                status: .ok, headers: PortalPages.headers(type: file.type, agent: agent),
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}

extension Problem {
    static let noPage = Problem(
        .notFound, rule: "unknownRoute", title: "Not Found", detail: "There is no such page; the portal starts at /.")
    static let pagesMissing = Problem(
        .internalServerError, rule: "pagesMissing", title: "Internal Server Error",
        detail: "The portal's pages are missing beside the server; rebuild it.")
}
