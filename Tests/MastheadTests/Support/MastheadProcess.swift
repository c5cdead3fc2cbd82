import Foundation
import Synchronization

/// The built `masthead` executable, run from the repository root like the README does.
enum MastheadProcess {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("masthead")
    }

    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
    }

    /// Runs the built executable, or `installed` (a copy `scripts/install` made).
    static func run(
        _ arguments: [String], environment: [String: String] = [:], input: String? = nil, in folder: URL = TestSettings.repositoryRoot, installed: URL? = nil
    ) async throws -> Result {
        try await onOwnThread { try runBlocking(arguments, environment: environment, input: input, in: folder, executable: installed ?? executable) }
    }

    private static func runBlocking(_ arguments: [String], environment: [String: String], input: String?, in folder: URL, executable: URL) throws -> Result {
        let process = make(arguments, environment: environment, in: folder)
        process.executableURL = executable
        let output = Pipe(), errors = Pipe(), standardInput = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = standardInput
        try process.run()
        if let input { standardInput.fileHandleForWriting.write(Data(input.utf8)) }
        try standardInput.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self)
        )
    }

    static func start(_ arguments: [String], environment: [String: String] = [:], in folder: URL = TestSettings.repositoryRoot) throws -> Running {
        let process = make(arguments, environment: environment, in: folder)
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let running = Running(process: process)
        output.fileHandleForReading.readabilityHandler = { handle in
            running.append(handle.availableData)
        }
        errors.fileHandleForReading.readabilityHandler = { handle in
            running.appendError(handle.availableData)
        }
        try process.run()
        return running
    }

    private static func make(_ arguments: [String], environment: [String: String], in folder: URL) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MASTHEAD_") }
        inherited["MASTHEAD_LOG_LEVEL"] = "error"
        process.environment = inherited.merging(environment) { $1 }
        return process
    }

    final class Running: @unchecked Sendable {
        let process: Process
        private let output = Mutex(Data())
        private let errors = Mutex(Data())

        init(process: Process) { self.process = process }

        func append(_ data: Data) { output.withLock { $0.append(data) } }
        func appendError(_ data: Data) { errors.withLock { $0.append(data) } }

        /// The first line of standard output containing `text`, waiting up to two minutes for it.
        func waitForLine(containing text: String) async throws -> String? {
            try await waitForLine(containing: text) { output.withLock { String(decoding: $0, as: UTF8.self) } }
        }

        /// The first line of standard error (the logs) containing `text`.
        func waitForErrorLine(containing text: String) async throws -> String? {
            try await waitForLine(containing: text) { errors.withLock { String(decoding: $0, as: UTF8.self) } }
        }

        private func waitForLine(containing text: String, in stream: () -> String) async throws -> String? {
            for _ in 0..<1200 {
                let lines = stream().split(separator: "\n")
                if let line = lines.first(where: { $0.contains(text) }) { return String(line) }
                if !process.isRunning { return nil }
                try await Task.sleep(for: .milliseconds(100))
            }
            return nil
        }

        func terminate() {
            if process.isRunning { process.terminate() }
        }
    }
}
