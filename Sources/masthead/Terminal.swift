import Foundation

/// What the CLI says to the person running it: results on standard output,
/// problems as one line on standard error. Logs go through swift-log instead.
enum Terminal {
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func write(_ data: Data) {
        FileHandle.standardOutput.write(data)
    }

    static func fail(_ reason: String) -> Never {
        let line = reason.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? reason
        FileHandle.standardError.write(Data("masthead: \(line)\n".utf8))
        exit(1)
    }
}
