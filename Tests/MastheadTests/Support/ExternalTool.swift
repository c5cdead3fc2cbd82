import Foundation

/// Runs a checking tool installed beside the suite (the Nu HTML validator, axe-core in Chromium).
/// In CI the tools must be there, and a missing one fails the run; on a developer's machine
/// without them, the checks that need them are skipped.
enum ExternalTool {
    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func available(_ names: String...) -> Bool {
        isRequired || names.allSatisfy { find($0) != nil }
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs the tool on a thread of its own (see `onOwnThread`).
    static func run(_ executable: String, _ arguments: [String]) async throws -> Result {
        try await onOwnThread { try runBlocking(executable, arguments) }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : (find(executable) ?? executable))
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
