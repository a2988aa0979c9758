import Foundation

/// The OpenAPI 3.1 document of the API (Examples/portal-server/openapi.yaml), served at `GET /openapi.yaml`.
enum OpenAPIDocument {
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "" }
        return text
    }()
}
