import Foundation

/// A Python helper the tests run beside the site (an SMTP sink, a push service): started with a
/// folder for what it receives, it prints its port on its first line and stops when its
/// standard input closes.
struct PythonService {
    let port: Int
    let folder: URL
    let process: Process
    let input: Pipe

    static func start(_ script: String, folderPrefix: String, arguments: [String] = [], missing: String) async throws -> PythonService {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(folderPrefix)-\(UUID().uuidString)")
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path.path, folder.path] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let reading = output.fileHandleForReading
        let line = try await onOwnThread { String(decoding: reading.availableData, as: UTF8.self) }
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestSupportError(missing)
        }
        return PythonService(port: port, folder: folder, process: process, input: input)
    }

    /// Closes its input, which ends it; what it leaves behind is removed once it has gone.
    func stop() {
        try? input.fileHandleForWriting.close()
        nonisolated(unsafe) let process = process
        let folder = folder
        Thread.detachNewThread {
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
