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

    let port: Int
    let folder: URL
    private let process: Process
    private let input: Pipe

    static func start() throws -> TestPushService {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-push-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("push_service.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, folder.path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestSupportError("the test push service did not start (pip install http_ece py_vapid)")
        }
        return TestPushService(port: port, folder: folder, process: process, input: input)
    }

    private init(port: Int, folder: URL, process: Process, input: Pipe) {
        self.port = port
        self.folder = folder
        self.process = process
        self.input = input
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
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
