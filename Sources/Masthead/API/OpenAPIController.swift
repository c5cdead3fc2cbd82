import Foundation
import Vapor

/// `/api/openapi.json`: the OpenAPI 3.1 document describing the APIs, as shipped in the
/// binary, with this site's address as its server.
struct OpenAPIController: Sendable {
    static let path = "/api/openapi.json"

    let publicURL: String

    func register(on routes: any RoutesBuilder) throws {
        let body = PreparedBody(bytes: ByteBuffer(data: try Self.document(publicURL: publicURL)), contentType: "application/json; charset=utf-8")
        routes.get("api", "openapi.json") { req in
            let response = body.response(to: req, cacheControl: "public, max-age=300")
            ContentCORS.apply(&response.headers)
            return response
        }
    }

    /// The shipped document with `servers` naming this site.
    static func document(publicURL: String) throws -> Data {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw OpenAPIDocumentMissing()
        }
        guard var document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw OpenAPIDocumentMissing()
        }
        document["servers"] = [["url": publicURL]]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}

struct OpenAPIDocumentMissing: Error, CustomStringConvertible {
    var description: String { "the OpenAPI document is missing from the build's resources" }
}
