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

    let port: Int
    let folder: URL
    private let process: Process
    private let input: Pipe

    static func start(arguments: [String] = []) throws -> TestSMTPServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("masthead-smtp-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("smtp_sink.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, folder.path] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestSupportError("the test SMTP server did not start (is aiosmtpd installed? pip install aiosmtpd)")
        }
        return TestSMTPServer(port: port, folder: folder, process: process, input: input)
    }

    private init(port: Int, folder: URL, process: Process, input: Pipe) {
        self.port = port
        self.folder = folder
        self.process = process
        self.input = input
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
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }
}
