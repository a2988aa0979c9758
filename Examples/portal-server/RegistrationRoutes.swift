import Foundation
import Hummingbird
import Logging
import PortalDocuments
import Prometheus
import Registration

extension PortalRoutes {
    // MARK: Reading

    func session(_ active: SessionDesk.ActiveSession) async throws -> Response {
        let session = active.session
        let registration = try await current(session)
        let role = try registration.user(session.userID).role
        return try Self.json(
            SessionDocument(
                userID: session.userID.rawValue, businessID: session.businessID.rawValue,
                bindingID: session.bindingID.rawValue, role: role.rawValue, expiresAt: active.expiresAt))
    }

    func registration(_ session: LoginSession) async throws -> Response {
        let registration = try await current(session)
        let history = try await dependencies.store.history(of: registration.id)
        return try Self.json(
            PortalJSON.Show(registration, history: history, at: dependencies.now()),
            headers: [.eTag: Self.eTag(registration.version)])
    }

    func history(_ session: LoginSession) async throws -> Response {
        let registration = try await current(session)
        let history = try await dependencies.store.history(of: registration.id)
        return try Self.json(
            HistoryDocument(history: PortalJSON.Show(registration, history: history, at: dependencies.now()).history),
            headers: [.eTag: Self.eTag(registration.version)])
    }

    func current(_ session: LoginSession) async throws -> BusinessRegistration {
        guard let registration = try await dependencies.store.registration(session.businessID) else {
            throw RegistrationError.businessNotFound(session.businessID)
        }
        return registration
    }

    // MARK: Changing

    /// A registration's version as an entity tag.
    static func eTag(_ version: Int) -> String { "\"\(version)\"" }

    /// The version `If-Match` names: required (428 without it), one strong tag of a version (400 otherwise).
    static func expectedVersion(_ request: Request) throws -> Int {
        guard let header = request.headers[.ifMatch] else {
            throw Problem(
                .preconditionRequired, rule: "ifMatchMissing", title: "Precondition Required",
                detail: "A change names the version it was made against: send If-Match with the registration's ETag.",
                field: "If-Match")
        }
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.count >= 3, text.first == "\"", text.last == "\"", let version = Int(text.dropFirst().dropLast()),
            version > 0
        else {
            throw Problem(
                .badRequest, rule: "ifMatchMalformed", title: "Bad Request",
                detail: "If-Match is the registration's ETag, as \"3\".", field: "If-Match")
        }
        return version
    }

    /// Reads `input` (the body), checks the registration is at the version `If-Match` names, prepares `make`'s
    /// change as the session's user (the library checks the rights and the fields), commits it, and answers the new
    /// version. Any refusal comes before the commit: nothing is changed.
    func change<Input>(
        _ request: Request, _ context: PortalRequestContext, kind: String, input: () async throws -> Input,
        make: (Input, BusinessRegistration) throws -> RegistrationChange
    ) async throws -> Response {
        let session = try context.requireSession().session
        let metadata: Logger.Metadata = [
            "userID": "\(session.userID)", "businessID": "\(session.businessID)", "bindingID": "\(session.bindingID)",
            "kind": "\(kind)",
        ]
        do {
            let expected = try Self.expectedVersion(request)
            let value = try await input()
            let registration = try await current(session)
            guard registration.version == expected else { throw Problem.staleVersion(registration.version) }
            let prepared = try await dependencies.service.prepare(
                try make(value, registration), to: registration.id, by: session.actor)
            guard prepared.expectedVersion == expected else { throw Problem.staleVersion(prepared.expectedVersion) }
            let done = try await dependencies.service.commit(prepared)
            metrics.change(kind)
            audit.info(
                "change",
                metadata: metadata.merging([
                    "event": "change", "changeID": "\(done.changeID)", "version": "\(done.registration.version)",
                ]) { $1 })
            let history = try await dependencies.store.history(of: registration.id)
            return try Self.json(
                ChangeDocument(
                    changeID: done.changeID.rawValue, version: done.registration.version, review: done.review,
                    registration: PortalJSON.Show(done.registration, history: history, at: dependencies.now())),
                headers: [.eTag: Self.eTag(done.registration.version)])
        } catch {
            let problem = Problem.from(error)
            audit.notice(
                "change refused",
                metadata: metadata.merging(["event": "change.refused", "rule": "\(problem.rule)"]) { $1 })
            throw problem
        }
    }

    // MARK: Operations

    func ready() async throws -> Response {
        do {
            _ = try await dependencies.store.registration(BusinessID(rawValue: "B-READYZ"))
            return try Self.json(StatusDocument(status: "ready"))
        } catch {
            audit.warning("not ready: the store does not answer", metadata: ["error": "\(error)"])
            throw Problem(
                .serviceUnavailable, rule: "storeUnavailable", title: "Service Unavailable",
                detail: "The registration store does not answer.")
        }
    }

    func metricsText() -> Response {
        var buffer: [UInt8] = []
        dependencies.registry.emit(into: &buffer)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }

    func openAPI() throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/yaml"],
            body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }
}

extension Problem {
    static func staleVersion(_ current: Int) -> Problem {
        Problem(
            .preconditionFailed, rule: "staleVersion", title: "登録情報が更新されています",
            detail:
                "The registration is at version \(current), not the one If-Match names; read it again, then change it.",
            field: "If-Match")
    }

    static func rateLimited(_ wait: TimeInterval) -> Problem {
        let seconds = wait.isFinite ? max(Int(wait.rounded(.up)), 1) : 3_600
        return Problem(
            .tooManyRequests, rule: "rateLimited", title: "Too Many Requests",
            detail: "Too many login attempts from this address or with this certificate; try again in \(seconds) s.",
            headers: [.retryAfter: "\(seconds)"])
    }
}
