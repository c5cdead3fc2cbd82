import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A Web Push service on 127.0.0.1 (`push_service.py`): it gives out subscriptions as a
/// browser's push service would, and checks and decrypts every message with independent
/// implementations of RFC 8292 and RFC 8291 (Python's py_vapid and http_ece).
final class TestPushService: @unchecked Sendable {
    struct Subscription: Codable {
        struct Keys: Codable {
            let p256dh: String
            let auth: String
        }
        let endpoint: String
        let keys: Keys
    }

    struct Received: Codable {
        let subscription: String
        let headers: [String: String]
        let payload: String?
        let error: String?
    }

    private let service: PythonService
    var port: Int { service.port }
    var folder: URL { service.folder }

    static func start() async throws -> TestPushService {
        TestPushService(service: try await PythonService.start(
            "push_service.py", folderPrefix: "masthead-push", missing: "the test push service did not start (pip install http_ece py_vapid)"
        ))
    }

    private init(service: PythonService) {
        self.service = service
    }

    /// A new browser's subscription; its endpoint answers messages with `status`.
    func subscription(answering status: Int = 201) async throws -> Subscription {
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/subscribe?status=\(status)")!)
        return try JSONDecoder().decode(Subscription.self, from: data)
    }

    func received() throws -> [Received] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
        return try names.map { try JSONDecoder().decode(Received.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    func stop() {
        service.stop()
    }
}
