import Foundation
@testable import Masthead

/// A real SMTP server on 127.0.0.1 (aiosmtpd, see smtp_sink.py) that records what it receives.
final class TestSMTPServer: @unchecked Sendable {
    struct ReceivedMessage: Decodable {
        let mail_from: String
        let rcpt_tos: [String]
        let headers: [String: String]
        let content_type: String
        let defects: [String]
        let text: String?
        let html: String?
        let raw: String

        /// The first link in the plain-text part that contains `path`.
        func link(containing path: String) -> String? {
            text?.split(whereSeparator: \.isWhitespace).map(String.init).first { $0.hasPrefix("http") && $0.contains(path) }
        }
    }

    private let service: PythonService
    var port: Int { service.port }
    var folder: URL { service.folder }

    static func start(arguments: [String] = []) async throws -> TestSMTPServer {
        TestSMTPServer(service: try await PythonService.start(
            "smtp_sink.py", folderPrefix: "masthead-smtp", arguments: arguments,
            missing: "the test SMTP server did not start (is aiosmtpd installed? pip install aiosmtpd)"
        ))
    }

    private init(service: PythonService) {
        self.service = service
    }

    var configuration: SMTPConfiguration {
        SMTPConfiguration(host: "127.0.0.1", port: port, security: .opportunisticSTARTTLS)
    }

    func messages() throws -> [ReceivedMessage] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
        return try names.map { try JSONDecoder().decode(ReceivedMessage.self, from: Data(contentsOf: folder.appendingPathComponent($0))) }
    }

    func messages(to address: String) throws -> [ReceivedMessage] {
        try messages().filter { $0.rcpt_tos.contains(address) }
    }

    func stop() {
        service.stop()
    }
}
